"""CloudFormation values, resolved by samcli's own intrinsic resolver.

`Values` is what `Ref` and `Fn::GetAtt` answer: parameters, pseudo parameters, and for each
resource that exists `{"Ref": ..., "<Attribute>": ...}` (samcli's `logical_id_translator`).

Relies on (pinned): samcli's `IntrinsicResolver(template, symbol_resolver)`,
`.intrinsic_property_resolver(value, ignore_errors)` and `IntrinsicsSymbolTable(template,
logical_id_translator)` with its `logical_id_translator` attribute; samcli's
`yamlhelper.yaml_parse`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ACCOUNT_ID = "123456789012"
"""moto's default account: the local stack's ARNs carry it."""

Values = dict[str, Any]

# samcli's resolver fails on the `AWS::NoValue` branch of an `Fn::If` (it resolves to None,
# then refuses None): it stands in as this marker, dropped once everything is resolved.
_NO_VALUE = "\u0000AWS::NoValue"


class TemplateError(Exception):
    """The template (or an override) cannot be used by the local stack."""


def partition(region: str) -> str:
    """The partition `region` is in (`AWS::Partition`)."""
    return "aws-cn" if region.startswith("cn-") else "aws"


def pseudo_parameters(region: str, stack_name: str) -> Values:
    """The pseudo parameters CloudFormation defines, with local values."""
    return {
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::StackId": (
            f"arn:{partition(region)}:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/"
            "00000000-0000-0000-0000-000000000000"
        ),
        "AWS::Partition": partition(region),
        "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com",
    }


def load_yaml(text: str) -> Any:
    """Parse CloudFormation YAML (short-form tags included) or JSON, as SAM CLI does."""
    from samcli.yamlhelper import yaml_parse

    return yaml_parse(text)


def _mark_no_value(value: Any) -> Any:
    if value == {"Ref": "AWS::NoValue"}:
        return _NO_VALUE
    if isinstance(value, list):
        return [_mark_no_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_no_value(v) for k, v in value.items()}
    return value


def _drop_no_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_drop_no_value(v) for v in value if v not in (None, _NO_VALUE)]
    if isinstance(value, dict):
        return {k: _drop_no_value(v) for k, v in value.items() if v not in (None, _NO_VALUE)}
    return value


class Resolver:
    """Resolves values of `template` against `values` (which may grow between calls)."""

    def __init__(self, template: Mapping[str, Any], values: Values) -> None:
        self._template = dict(template)
        self.values = values
        self._intrinsics: Any = None

    def resolve(self, value: Any) -> Any:
        try:
            resolved = self._resolver().intrinsic_property_resolver(
                _mark_no_value(value), ignore_errors=False
            )
        except Exception as error:  # samcli raises several unrelated types
            raise TemplateError(f"cannot resolve {value!r}: {error}") from error
        return _drop_no_value(resolved)

    def _resolver(self) -> Any:
        """samcli's resolver, made once: it deep-copies the whole template when made (tenths
        of a second for ours), and reads `values` as they are at each call."""
        if self._intrinsics is None:
            from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import (
                IntrinsicResolver,
            )
            from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import (
                IntrinsicsSymbolTable,
            )

            symbols = IntrinsicsSymbolTable(
                template=self._template, logical_id_translator=self.values
            )
            symbols.logical_id_translator = self.values  # the same dict, even while empty
            self._intrinsics = IntrinsicResolver(template=self._template, symbol_resolver=symbols)
        return self._intrinsics

    def condition(self, name: str) -> bool:
        """Whether the template's condition `name` holds."""
        if name not in (self._template.get("Conditions") or {}):
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve({"Fn::If": [name, True, False]}))


def scalar_text(value: Any) -> str:
    """A resolved scalar as CloudFormation passes it on (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def referenced_names(value: Any) -> set[str]:
    """The logical ids and parameters `value` refers to (Ref, Fn::GetAtt, ${} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                local = inner[1] if isinstance(inner, list) and len(inner) > 1 else {}
                if isinstance(text, str):
                    names = {n.split(".")[0] for n in re.findall(r"\$\{([^}!]*)\}", text)}
                    found |= names - set(local)
                found |= referenced_names(local)
            else:
                found |= referenced_names(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced_names(inner)
    return found
