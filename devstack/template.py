"""A SAM/CloudFormation template: its sections and parameter values, as CloudFormation checks them.

Parsing is SAM CLI's (`devstack.cfn.load_yaml`); Globals and intrinsics are SAM's too (the
providers in `devstack.sam`, the resolver in `devstack.cfn`). What is ours: parameter values
checked as CloudFormation would before a deploy, and `Metadata.LocalStack`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devstack.cfn import TemplateError, load_yaml, scalar_text

__all__ = ["ParameterValue", "Template", "TemplateError", "load_yaml"]


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
        except (OSError, ValueError, yaml.YAMLError) as error:
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


def _parameter_value(name: str, spec: Mapping[str, Any], raw: Any) -> ParameterValue:
    kind = str(spec.get("Type", "String"))
    if kind.startswith("AWS::SSM::Parameter::Value"):
        raise TemplateError(f"parameter {name}: SSM parameter types need an override locally")
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        items = raw if isinstance(raw, list) else scalar_text(raw).split(",")
        return [scalar_text(item).strip() for item in items]
    text = scalar_text(raw)
    allowed = spec.get("AllowedValues")
    if allowed is not None and text not in [scalar_text(v) for v in allowed]:
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
