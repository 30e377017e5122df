"""Lambda event filtering: EventBridge-style patterns matched against each record."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

FilterPattern = Mapping[str, Any]

_OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "equals-ignore-case",
        "anything-but",
        "numeric",
        "exists",
        "wildcard",
        "cidr",
    }
)
_COMPARISONS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def parse_pattern(pattern: Any) -> FilterPattern:
    """Check a pattern's shape (as Lambda does when the mapping is created) and return it."""
    if not isinstance(pattern, dict) or not pattern:
        raise ValueError(f"a pattern must be a non-empty JSON object, got {pattern!r}")
    for key, rule in pattern.items():
        if key == "$or":
            if not isinstance(rule, list) or len(rule) < 2:
                raise ValueError("$or needs a list of at least two patterns")
            for alternative in rule:
                parse_pattern(alternative)
        elif isinstance(rule, dict):
            parse_pattern(rule)
        elif isinstance(rule, list) and rule:
            for leaf in rule:
                _check_leaf(key, leaf)
        else:
            raise ValueError(f"{key}: a rule must be an object or a non-empty array, got {rule!r}")
    return pattern


def _check_leaf(key: str, leaf: Any) -> None:
    if not isinstance(leaf, dict):
        if isinstance(leaf, list):
            raise ValueError(f"{key}: nested arrays are not allowed")
        return
    if len(leaf) != 1 or next(iter(leaf)) not in _OPERATORS:
        raise ValueError(f"{key}: unknown matcher {leaf!r}")
    ((operator, operand),) = leaf.items()
    if operator == "numeric":
        if not isinstance(operand, list) or len(operand) not in (2, 4):
            raise ValueError(f"{key}: numeric needs [op, n] or [op, n, op, n]")
        for op, number in zip(operand[::2], operand[1::2], strict=True):
            if op not in _COMPARISONS or not _is_number(number):
                raise ValueError(f"{key}: bad numeric comparison {op!r} {number!r}")
    elif operator == "exists" and not isinstance(operand, bool):
        raise ValueError(f"{key}: exists takes true or false")
    elif (
        operator in ("prefix", "suffix")
        and not (
            isinstance(operand, str)
            or (isinstance(operand, dict) and set(operand) == {"equals-ignore-case"})
        )
    ) or (operator in ("equals-ignore-case", "wildcard", "cidr") and not isinstance(operand, str)):
        raise ValueError(f"{key}: {operator} takes a string")


def matches_any(patterns: Iterable[FilterPattern], event: Mapping[str, Any]) -> bool:
    """Filters are OR-ed; no filter at all lets everything through."""
    patterns = list(patterns)
    return not patterns or any(matches(pattern, event) for pattern in patterns)


def matches(pattern: FilterPattern, event: Any) -> bool:
    """Whether `event` satisfies every field of `pattern`."""
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in rule):
                return False
            continue
        present = isinstance(event, Mapping) and key in event
        value = event[key] if present else None
        if isinstance(rule, dict):
            candidates = value if isinstance(value, list) else [value if present else {}]
            if not any(
                matches(rule, item if isinstance(item, Mapping) else {}) for item in candidates
            ):
                return False
        elif not _matches_leaf(rule, present, value):
            return False
    return True


def _matches_leaf(rules: list[Any], present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    is_leaf = present and not isinstance(value, dict) and (not isinstance(value, list) or value)
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            if rule["exists"] == bool(is_leaf):
                return True
            continue
        if present and any(_matches_value(rule, item) for item in values):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(rule: Any, value: Any) -> bool:
    # exact JSON equality: "5" is not 5, 300 is not 300.0, true is not 1
    return type(rule) is type(value) and rule == value


def _text_match(operand: Any, value: str, test: str) -> bool:
    if isinstance(operand, dict):
        operand, value = str(operand["equals-ignore-case"]).lower(), value.lower()
    return value.startswith(operand) if test == "prefix" else value.endswith(operand)


def _matches_value(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return _equal(rule, value)
    ((operator, operand),) = rule.items()
    if operator in ("prefix", "suffix"):
        return isinstance(value, str) and _text_match(operand, value, operator)
    if operator == "equals-ignore-case":
        options = operand if isinstance(operand, list) else [operand]
        return isinstance(value, str) and value.lower() in (str(item).lower() for item in options)
    if operator == "wildcard":
        return isinstance(value, str) and _wildcard(str(operand)).fullmatch(value) is not None
    if operator == "cidr":
        return isinstance(value, str) and _in_network(value, str(operand))
    if operator == "numeric":
        return _is_number(value) and all(
            _COMPARISONS[op](value, number)
            for op, number in zip(operand[::2], operand[1::2], strict=True)
        )
    if operator == "anything-but":
        if isinstance(operand, dict):
            return not _matches_value(operand, value)
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(_equal(item, value) for item in excluded)
    return False


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(?<!\\)\*", pattern)
    return re.compile(".*".join(re.escape(part.replace("\\*", "*")) for part in parts), re.DOTALL)


def _in_network(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
