"""Load a SAM/CloudFormation template: YAML short-form tags, parameters, Globals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    """The template (or an override) cannot be used by the local stack."""


class CfnLoader(yaml.SafeLoader):
    """SafeLoader reading `!Ref x` as `{"Ref": x}` and `!X v` as `{"Fn::X": v}`.

    Unquoted dates stay strings and only true/false are booleans, as CloudFormation reads them.
    """


CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "yYnNoOtTfF":
    CfnLoader.yaml_implicit_resolvers[_first] = [
        (tag, regexp)
        for tag, regexp in CfnLoader.yaml_implicit_resolvers.get(_first, [])
        if tag != "tag:yaml.org,2002:bool"
    ]
CfnLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _node_value(loader: CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise TemplateError(f"unsupported YAML node {node!r}")


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(text: str) -> Any:
    """Parse CloudFormation YAML (or JSON) text."""
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader


ParameterValue = str | list[str]


@dataclass(frozen=True)
class Template:
    """A parsed template and the directory its relative paths (CodeUri) start from."""

    path: Path
    body: Mapping[str, Any] = field(repr=False)

    @classmethod
    def load(cls, path: Path | str) -> Template:
        path = Path(path).resolve()
        try:
            body = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise TemplateError(f"cannot read {path}: {error}") from error
        if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
            raise TemplateError(f"{path} has no Resources section")
        return cls(path=path, body=body)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def section(self, name: str) -> dict[str, Any]:
        value = self.body.get(name) or {}
        if not isinstance(value, dict):
            raise TemplateError(f"section {name} must be a mapping")
        return value

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.section("Resources")

    def local_metadata(self) -> dict[str, Any]:
        """`Metadata.LocalStack`: settings only the local stack reads."""
        value = self.section("Metadata").get("LocalStack") or {}
        if not isinstance(value, dict):
            raise TemplateError("Metadata.LocalStack must be a mapping")
        return value

    def globals_for(self, section: str) -> dict[str, Any]:
        value = self.section("Globals").get(section) or {}
        if not isinstance(value, dict):
            raise TemplateError(f"Globals.{section} must be a mapping")
        return value

    def properties(self, logical_id: str) -> dict[str, Any]:
        """The resource's properties, with SAM Globals merged in for serverless resources."""
        resource = self.resources[logical_id]
        own = resource.get("Properties") or {}
        kind = str(resource.get("Type", ""))
        globals_section = {
            "AWS::Serverless::Function": "Function",
            "AWS::Serverless::HttpApi": "HttpApi",
            "AWS::Serverless::Api": "Api",
            "AWS::Serverless::SimpleTable": "SimpleTable",
        }.get(kind)
        if globals_section is None:
            return dict(own)
        merged = merge_globals(self.globals_for(globals_section), own)
        assert isinstance(merged, dict)
        return merged

    def parameter_values(
        self, overrides: Mapping[str, str] | None = None
    ) -> dict[str, ParameterValue]:
        """Values: Default, then `Metadata.LocalStack.ParameterOverrides`, then `overrides`."""
        declared = self.section("Parameters")
        local = self.local_metadata().get("ParameterOverrides") or {}
        given: dict[str, Any] = {**local, **(overrides or {})}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise TemplateError(
                f"parameter overrides for undeclared parameters: {', '.join(unknown)}"
            )
        values: dict[str, ParameterValue] = {}
        for name, spec in declared.items():
            raw = given.get(name, spec.get("Default"))
            if raw is None:
                raise TemplateError(f"parameter {name} has no Default and no override")
            values[name] = _parameter_value(name, spec, raw)
        return values


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parameter_value(name: str, spec: Mapping[str, Any], raw: Any) -> ParameterValue:
    kind = str(spec.get("Type", "String"))
    if kind.startswith("AWS::SSM::Parameter::Value"):
        raise TemplateError(f"parameter {name}: SSM parameter types need an override locally")
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        items = raw if isinstance(raw, list) else _scalar_text(raw).split(",")
        return [_scalar_text(item).strip() for item in items]
    text = _scalar_text(raw)
    allowed = spec.get("AllowedValues")
    if allowed is not None and text not in [_scalar_text(v) for v in allowed]:
        raise TemplateError(f"parameter {name}={text!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), text) is None:
        raise TemplateError(f"parameter {name}={text!r} does not match {pattern}")
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            raise TemplateError(f"parameter {name}={text!r} is not a number") from None
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise TemplateError(f"parameter {name}={text} is outside [{low}, {high}]")
    shortest, longest = spec.get("MinLength"), spec.get("MaxLength")
    if (shortest is not None and len(text) < int(shortest)) or (
        longest is not None and len(text) > int(longest)
    ):
        raise TemplateError(f"parameter {name}={text!r} is not {shortest}..{longest} characters")
    return text


def is_intrinsic(value: Any) -> bool:
    """Whether `value` is an intrinsic function call (`{"Ref": ...}`, `{"Fn::X": ...}`)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or str(key).startswith("Fn::")


def merge_globals(global_value: Any, own_value: Any) -> Any:
    """SAM's Globals rule: maps merge (own keys win), lists concatenate, anything else: own wins.

    Intrinsic function calls count as plain values, never as maps to merge.
    """
    if isinstance(global_value, dict) and isinstance(own_value, dict):
        if is_intrinsic(global_value) or is_intrinsic(own_value):
            return own_value
        merged = dict(global_value)
        for key, value in own_value.items():
            merged[key] = merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(own_value, list):
        return [*global_value, *own_value]
    return own_value
