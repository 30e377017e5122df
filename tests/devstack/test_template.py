"""What of template reading is ours (parameters as CloudFormation checks them, references for
the order of creation) and how the local stack uses SAM CLI's intrinsic resolver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devstack.cfn import Resolver, pseudo_parameters, referenced_names
from devstack.template import Template, TemplateError, load_yaml

CONDITIONS = {
    "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
    "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
}


def resolver(**values: Any) -> Resolver:
    template = {"Conditions": CONDITIONS, "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    return Resolver(
        template,
        {
            **pseudo_parameters("eu-west-1", "demo"),
            "Queue": {"Ref": "http://queue-url", "Arn": "arn:aws:sqs:eu-west-1:1:q"},
            **values,
        },
    )


def test_short_form_tags_are_read_as_sam_cli_reads_them() -> None:
    body = load_yaml("A: !Ref X\nB: !GetAtt T.Arn\nC: !Sub '${X}'\nD: !If [C, 1, 2]\n")

    assert body == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["T", "Arn"]},
        "C": {"Fn::Sub": "${X}"},
        "D": {"Fn::If": ["C", 1, 2]},
    }


def test_refs_and_attributes_answer_what_exists() -> None:
    r = resolver(Stage="dev")

    assert r.resolve({"Ref": "Queue"}) == "http://queue-url"
    assert r.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:eu-west-1:1:q"
    assert r.resolve({"Fn::Sub": "${AWS::Region}/${Queue.Arn}/${Stage}"}) == (
        "eu-west-1/arn:aws:sqs:eu-west-1:1:q/dev"
    )


def test_conditions_if_and_no_value() -> None:
    r = resolver(Stage="dev")

    assert r.condition("IsProd") is False
    assert r.condition("NotProd") is True
    value = {
        "keep": {"Fn::If": ["NotProd", "yes", "no"]},
        "drop": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "list": ["a", {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}],
    }
    assert r.resolve(value) == {"keep": "yes", "list": ["a"]}


def test_an_unknown_condition_is_a_clear_error() -> None:
    with pytest.raises(TemplateError, match="unknown condition"):
        resolver().condition("Nope")


def test_every_name_an_intrinsic_refers_to_is_found() -> None:
    value = {
        "a": {"Ref": "One"},
        "b": {"Fn::GetAtt": ["Two", "Arn"]},
        "c": {"Fn::Sub": "${Three.Arn}/${AWS::Region}/${!No}"},
        "d": {"Fn::Sub": ["${x}${Four}", {"x": {"Ref": "Five"}}]},
    }
    assert referenced_names(value) == {"One", "Two", "Three", "AWS::Region", "Four", "Five"}


TEMPLATE = """
Parameters:
  Rounds: {Type: Number, Default: 12, MinValue: 4, MaxValue: 16}
  Public: {Type: String, Default: "false", AllowedValues: ["true", "false"]}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables: {FROM_GLOBALS: "1", SHARED: global}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: x.handler
      Environment:
        Variables: {SHARED: own}
Metadata:
  LocalStack:
    ParameterOverrides: {Public: "true", Rounds: "10"}
"""


def load(tmp_path: Path, text: str = TEMPLATE) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return Template.load(path)


def test_parameters_default_then_metadata_then_cli(tmp_path: Path) -> None:
    template = load(tmp_path)
    assert template.parameter_values() == {"Rounds": "10", "Public": "true", "Names": ["a", "b"]}
    assert template.parameter_values({"Rounds": "5"})["Rounds"] == "5"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"Rounds": "99"}, "outside"),
        ({"Rounds": "many"}, "not a number"),
        ({"Public": "maybe"}, "not one of"),
        ({"Unknown": "1"}, "undeclared"),
    ],
)
def test_bad_parameter_overrides(tmp_path: Path, override: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load(tmp_path).parameter_values(override)


def test_missing_resources_section(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no Resources"):
        load(tmp_path, "Parameters: {}\n")
