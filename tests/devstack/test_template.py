"""Template loading (short-form tags), parameters, Globals and intrinsic resolution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devstack.intrinsics import NO_VALUE, Resolver, pseudo_parameters, referenced_names
from devstack.template import Template, TemplateError, load_yaml, merge_globals


def resolver(
    parameters: dict[str, Any] | None = None,
    conditions: dict[str, Any] | None = None,
    mappings: dict[str, Any] | None = None,
) -> Resolver:
    def ref(name: str) -> Any:
        if name == "Queue":
            return "http://queue-url"
        raise TemplateError(f"unknown {name}")

    def attribute(name: str, attribute: str) -> Any:
        return f"{name}:{attribute}"

    return Resolver(
        parameters=parameters or {},
        pseudo=pseudo_parameters("eu-west-1", "demo"),
        ref=ref,
        attribute=attribute,
        conditions=conditions,
        mappings=mappings,
    )


def test_short_form_tags_become_intrinsic_maps() -> None:
    loaded = load_yaml(
        """
        a: !Ref Thing
        b: !GetAtt Table.StreamArn
        c: !Sub "${A}-${B.Arn}"
        d: !Sub ["${x}", {x: !Ref Y}]
        e: !If [Cond, !Join [",", [a, b]], !Ref AWS::NoValue]
        f: !Select [1, !Split [",", "a,b"]]
        g: !Equals [!Ref P, "x"]
        h: !FindInMap [M, K, V]
        i: !GetAtt [Table, Arn]
        """
    )
    assert loaded == {
        "a": {"Ref": "Thing"},
        "b": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "c": {"Fn::Sub": "${A}-${B.Arn}"},
        "d": {"Fn::Sub": ["${x}", {"x": {"Ref": "Y"}}]},
        "e": {"Fn::If": ["Cond", {"Fn::Join": [",", ["a", "b"]]}, {"Ref": "AWS::NoValue"}]},
        "f": {"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]},
        "g": {"Fn::Equals": [{"Ref": "P"}, "x"]},
        "h": {"Fn::FindInMap": ["M", "K", "V"]},
        "i": {"Fn::GetAtt": ["Table", "Arn"]},
    }


def test_yaml_scalars_keep_cloudformation_meaning() -> None:
    loaded = load_yaml("version: 2010-09-09\nanswer: yes\nflag: true\nnumber: 10\n")
    assert loaded == {"version": "2010-09-09", "answer": "yes", "flag": True, "number": 10}


def test_ref_and_pseudo_parameters() -> None:
    resolve = resolver({"Stage": "dev"}).resolve
    assert resolve({"Ref": "Stage"}) == "dev"
    assert resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert resolve({"Ref": "AWS::StackName"}) == "demo"
    assert resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolve({"Ref": "Queue"}) == "http://queue-url"


def test_sub_string_form() -> None:
    resolve = resolver({"Stage": "dev"}).resolve
    text = "${AWS::StackName}-${Stage}-${Queue}-${Table.Arn}-${!Literal}"
    assert resolve({"Fn::Sub": text}) == "demo-dev-http://queue-url-Table:Arn-${Literal}"


def test_sub_list_form_variables_win() -> None:
    resolve = resolver({"Stage": "dev"}).resolve
    value = {"Fn::Sub": ["${Stage}/${x}/${y}", {"x": {"Ref": "Stage"}, "y": "lit", "Stage": "v"}]}
    assert resolve(value) == "v/dev/lit"


def test_getatt_join_select_split_base64_and_length() -> None:
    resolve = resolver().resolve
    assert resolve({"Fn::GetAtt": ["Table", "StreamArn"]}) == "Table:StreamArn"
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}, 3]]}) == "a-eu-west-1-3"
    assert resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert resolve({"Fn::Base64": "hi"}) == "aGk="
    assert resolve({"Fn::Length": [1, 2, 3]}) == 3


def test_conditions_if_and_no_value() -> None:
    conditions = {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "NotProd"}, {"Fn::Equals": ["a", "a"]}]},
    }
    r = resolver({"Stage": "dev"}, conditions)
    assert r.condition("IsProd") is False
    assert r.condition("NotProd") is True
    assert r.condition("Both") is True
    value = {
        "keep": {"Fn::If": ["NotProd", "yes", "no"]},
        "drop": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "list": ["a", {"Ref": "AWS::NoValue"}],
    }
    assert r.resolve(value) == {"keep": "yes", "list": ["a"]}
    assert r.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_find_in_map() -> None:
    r = resolver({"Stage": "dev"}, mappings={"Sizes": {"dev": {"Memory": 128}}})
    assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 128
    with pytest.raises(TemplateError):
        r.resolve({"Fn::FindInMap": ["Sizes", "prod", "Memory"]})


def test_unsupported_function_is_a_clear_error() -> None:
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolver().resolve({"Fn::ImportValue": "Shared"})


def test_referenced_names() -> None:
    value = {
        "a": {"Ref": "One"},
        "b": {"Fn::GetAtt": ["Two", "Arn"]},
        "c": {"Fn::Sub": "${Three.Arn}/${AWS::Region}/${!No}"},
        "d": {"Fn::Sub": ["${x}${Four}", {"x": {"Ref": "Five"}}]},
    }
    assert referenced_names(value) == {"One", "Two", "Three", "AWS::Region", "Four", "Five"}


def test_globals_merge_like_sam() -> None:
    globals_ = {
        "Timeout": 10,
        "Layers": ["g"],
        "Environment": {"Variables": {"A": "global", "B": {"Ref": "X"}}},
    }
    own = {
        "Timeout": 60,
        "Layers": ["own"],
        "Environment": {"Variables": {"B": {"Fn::Sub": "${Y}"}, "C": "own"}},
    }
    assert merge_globals(globals_, own) == {
        "Timeout": 60,
        "Layers": ["g", "own"],
        "Environment": {"Variables": {"A": "global", "B": {"Fn::Sub": "${Y}"}, "C": "own"}},
    }


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


def test_function_properties_include_globals(tmp_path: Path) -> None:
    properties = load(tmp_path).properties("Fn")
    assert properties["Runtime"] == "python3.12"
    assert properties["Environment"]["Variables"] == {"FROM_GLOBALS": "1", "SHARED": "own"}


def test_missing_resources_section(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no Resources"):
        load(tmp_path, "Parameters: {}\n")
