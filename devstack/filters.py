"""Lambda event filtering (FilterCriteria): each pattern's shape is checked as Lambda checks
it when the mapping is created; records are matched by moto's EventBridge matcher
(`moto.events.models.EventPattern`, moto 5.2: an internal API, pinned in pyproject.toml),
through `matches` below, which keeps JSON booleans apart from numbers as Lambda does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from moto.events.models import EventPattern

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
_COMPARISONS = frozenset({"<", "<=", "=", ">", ">="})


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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def matches_any(patterns: Iterable[FilterPattern], event: Mapping[str, Any]) -> bool:
    """Filters are OR-ed; no filter at all lets everything through."""
    patterns = list(patterns)
    return not patterns or any(matches(pattern, event) for pattern in patterns)


def matches(pattern: FilterPattern, event: Any) -> bool:
    """Whether `event` satisfies every field of `pattern` (moto's matcher decides)."""
    return bool(EventPattern(None, _typed(pattern, in_pattern=True)).matches_event(_typed(event)))


# moto compares values with ==, so JSON's true would match a pattern's 1; Lambda keeps
# booleans apart. Both sides carry them as strings no JSON number or text can equal.
_BOOLEANS = {True: "\0true", False: "\0false"}


def _typed(value: Any, *, in_pattern: bool = False) -> Any:
    if isinstance(value, bool):
        return _BOOLEANS[value]
    if isinstance(value, dict):
        if in_pattern and isinstance(value.get("exists"), bool):
            return value  # the `exists` operator's own operand is not a record's value
        return {key: _typed(item, in_pattern=in_pattern) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item, in_pattern=in_pattern) for item in value]
    return value
