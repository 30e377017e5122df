"""Resolve CloudFormation intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::If, ...)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from devstack.template import ParameterValue, TemplateError

ACCOUNT_ID = "123456789012"

RefLookup = Callable[[str], Any]
AttributeLookup = Callable[[str, str], Any]


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def pseudo_parameters(region: str, stack_name: str) -> dict[str, Any]:
    """The pseudo parameters CloudFormation defines, with local values."""
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    return {
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::StackId": (
            f"arn:{partition}:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/"
            "00000000-0000-0000-0000-000000000000"
        ),
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


class Resolver:
    """Evaluates intrinsics against parameters, pseudo parameters and resource lookups.

    `ref(logical_id)` and `attribute(logical_id, name)` answer for resources; they are
    called lazily, only for the values actually resolved.
    """

    def __init__(
        self,
        *,
        parameters: Mapping[str, ParameterValue],
        pseudo: Mapping[str, Any],
        ref: RefLookup,
        attribute: AttributeLookup,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self._parameters = parameters
        self._pseudo = pseudo
        self._ref = ref
        self._attribute = attribute
        self._conditions = dict(conditions or {})
        self._mappings = mappings or {}
        self._condition_values: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`; `AWS::NoValue` entries disappear."""
        if isinstance(value, dict):
            if len(value) == 1:
                (key, argument), *_ = value.items()
                if key == "Ref":
                    return self._resolve_ref(self.resolve(argument))
                if isinstance(key, str) and key.startswith("Fn::"):
                    return self._call(key, argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        """The value of a named condition of the `Conditions` section."""
        if name not in self._condition_values:
            if name not in self._conditions:
                raise TemplateError(f"unknown condition {name}")
            self._condition_values[name] = self._truth(self._conditions[name])
        return self._condition_values[name]

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and set(value) == {"Condition"}:
            return self.condition(str(value["Condition"]))
        result = self.resolve(value)
        if isinstance(result, bool):
            return result
        if isinstance(result, str) and result.lower() in ("true", "false"):
            return result.lower() == "true"
        raise TemplateError(f"condition {value!r} is not a boolean")

    def _resolve_ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref needs a name, got {name!r}")
        if name in self._parameters:
            return self._parameters[name]
        if name in self._pseudo:
            return self._pseudo[name]
        return self._ref(name)

    def _call(self, function: str, argument: Any) -> Any:
        handler = getattr(self, "_fn_" + function[4:].lower(), None)
        if handler is None:
            raise TemplateError(f"{function} is not supported by the local stack")
        return handler(argument)

    def _args(self, function: str, argument: Any, count: int) -> list[Any]:
        values = self.resolve(argument) if not isinstance(argument, list) else argument
        if not isinstance(values, list) or len(values) != count:
            raise TemplateError(f"{function} takes {count} arguments, got {argument!r}")
        return values

    def _fn_getatt(self, argument: Any) -> Any:
        if isinstance(argument, str):
            resource, _, name = argument.partition(".")
        else:
            resource, name = (self.resolve(item) for item in self._args("Fn::GetAtt", argument, 2))
        return self._attribute(str(resource), str(name))

    def _fn_sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = self._args("Fn::Sub", argument, 2)
            variables = self.resolve(variables)
        else:
            text, variables = argument, {}
        if not isinstance(text, str) or not isinstance(variables, dict):
            raise TemplateError(f"Fn::Sub needs a string and a map, got {argument!r}")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif name in self._parameters or name in self._pseudo:
                value = self._resolve_ref(name)
            elif "." in name:
                resource, _, attribute = name.partition(".")
                value = self._attribute(resource, attribute)
            else:
                value = self._ref(name)
            if isinstance(value, list | dict):
                raise TemplateError(f"Fn::Sub variable {name} is not a scalar")
            return scalar_text(value)

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, argument: Any) -> str:
        delimiter, items = self._args("Fn::Join", argument, 2)
        values = self.resolve(items)
        if not isinstance(values, list):
            raise TemplateError(f"Fn::Join needs a list, got {items!r}")
        return str(delimiter).join(scalar_text(item) for item in values)

    def _fn_select(self, argument: Any) -> Any:
        index, items = (self.resolve(item) for item in self._args("Fn::Select", argument, 2))
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Select needs a list, got {items!r}")
        try:
            return items[int(index)]
        except (IndexError, ValueError):
            raise TemplateError(f"Fn::Select index {index!r} out of range") from None

    def _fn_split(self, argument: Any) -> list[str]:
        delimiter, text = (self.resolve(item) for item in self._args("Fn::Split", argument, 2))
        return str(text).split(str(delimiter))

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = self._args("Fn::If", argument, 3)
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def _fn_equals(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in self._args("Fn::Equals", argument, 2))
        if isinstance(left, list | dict) or isinstance(right, list | dict):
            return bool(left == right)
        return scalar_text(left) == scalar_text(right)

    def _fn_not(self, argument: Any) -> bool:
        (value,) = self._args("Fn::Not", argument, 1)
        return not self._truth(value)

    def _fn_and(self, argument: Any) -> bool:
        return all(self._truth(item) for item in _as_list("Fn::And", argument))

    def _fn_or(self, argument: Any) -> bool:
        return any(self._truth(item) for item in _as_list("Fn::Or", argument))

    def _fn_findinmap(self, argument: Any) -> Any:
        values = _as_list("Fn::FindInMap", argument)
        if len(values) not in (3, 4):
            raise TemplateError(f"Fn::FindInMap takes 3 arguments, got {argument!r}")
        name, top, second = (scalar_text(self.resolve(item)) for item in values[:3])
        try:
            return self.resolve(self._mappings[name][top][second])
        except (KeyError, TypeError):
            if len(values) == 4 and isinstance(values[3], dict) and "DefaultValue" in values[3]:
                return self.resolve(values[3]["DefaultValue"])
            raise TemplateError(f"Fn::FindInMap: no {name}.{top}.{second}") from None

    def _fn_base64(self, argument: Any) -> str:
        return base64.b64encode(scalar_text(self.resolve(argument)).encode()).decode()

    def _fn_getazs(self, argument: Any) -> list[str]:
        region = scalar_text(self.resolve(argument)) or str(self._pseudo["AWS::Region"])
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_length(self, argument: Any) -> int:
        values = self.resolve(argument)
        if not isinstance(values, list):
            raise TemplateError(f"Fn::Length needs a list, got {argument!r}")
        return len(values)

    def _fn_tojsonstring(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument), separators=(",", ":"))


def _as_list(function: str, argument: Any) -> list[Any]:
    if not isinstance(argument, list):
        raise TemplateError(f"{function} needs a list, got {argument!r}")
    return argument


def scalar_text(value: Any) -> str:
    """A scalar the way CloudFormation turns it into a string (booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        raise TemplateError(f"expected a scalar, got {value!r}")
    return str(value)


def referenced_names(value: Any) -> set[str]:
    """The names (resources or parameters) that `Ref`, `Fn::GetAtt` and `Fn::Sub` use in `value`."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_names(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text, variables = argument if isinstance(argument, list) else (argument, {})
                for name in _SUB_VARIABLE.findall(str(text)):
                    if not name.startswith("!") and name not in variables:
                        found.add(name.split(".")[0])
                found |= referenced_names(variables)
            else:
                found |= referenced_names(argument)
    return found
