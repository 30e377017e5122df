"""Lambda event-filtering patterns, applied to records in Lambda's shape."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.filters import matches, matches_any, parse_pattern

RECORD: dict[str, Any] = {
    "eventName": "INSERT",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "Keys": {"pk": {"S": "USER#1"}},
        "NewImage": {
            "kind": {"S": "event"},
            "type": {"S": "UserRegistered"},
            "file": {"S": "photo.PNG"},
            "version": {"N": "3"},
            "tags": {"SS": ["a", "b"]},
        },
        "SizeBytes": 120,
        "SequenceNumber": "100",
    },
    "nothing": None,
    "empty": "",
    "count": 5,
    "ratio": 2.5,
    "flag": True,
    "ip": "10.0.0.7",
}

CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("equals", {"eventName": ["INSERT"]}, True),
    ("equals other", {"eventName": ["MODIFY"]}, False),
    ("or of values", {"eventName": ["MODIFY", "INSERT"]}, True),
    ("nested", {"dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}, True),
    ("nested mismatch", {"dynamodb": {"NewImage": {"kind": {"S": ["snapshot"]}}}}, False),
    ("and of fields", {"eventName": ["INSERT"], "eventSource": ["aws:sqs"]}, False),
    ("missing field", {"absent": ["x"]}, False),
    ("null", {"nothing": [None]}, True),
    ("null is not absent", {"absent": [None]}, False),
    ("empty string", {"empty": [""]}, True),
    ("prefix", {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "USER#"}]}}}}, True),
    ("prefix miss", {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}}}}, False),
    (
        "prefix ignoring case",
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": {"equals-ignore-case": "user#"}}]}}}},
        True,
    ),
    ("suffix", {"dynamodb": {"NewImage": {"file": {"S": [{"suffix": ".PNG"}]}}}}, True),
    (
        "suffix is case sensitive",
        {"dynamodb": {"NewImage": {"file": {"S": [{"suffix": ".png"}]}}}},
        False,
    ),
    ("equals-ignore-case", {"eventName": [{"equals-ignore-case": "insert"}]}, True),
    ("anything-but value", {"eventName": [{"anything-but": "REMOVE"}]}, True),
    ("anything-but list", {"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}, False),
    ("anything-but prefix", {"eventName": [{"anything-but": {"prefix": "INS"}}]}, False),
    ("anything-but needs the field", {"absent": [{"anything-but": "x"}]}, False),
    ("exists", {"dynamodb": {"NewImage": {"type": {"S": [{"exists": True}]}}}}, True),
    ("exists on a missing field", {"dynamodb": {"NewImage": {"gone": [{"exists": True}]}}}, False),
    ("does not exist", {"dynamodb": {"NewImage": {"gone": [{"exists": False}]}}}, True),
    ("does not exist, but does", {"eventName": [{"exists": False}]}, False),
    ("exists is for leaves", {"dynamodb": [{"exists": True}]}, False),
    ("does not exist, parent missing", {"nope": {"deeper": [{"exists": False}]}}, True),
    ("numeric range", {"count": [{"numeric": [">", 0, "<=", 5]}]}, True),
    ("numeric range miss", {"count": [{"numeric": [">", 5]}]}, False),
    ("numeric equals float", {"ratio": [{"numeric": ["=", 2.5]}]}, True),
    (
        "numeric on a string",
        {"dynamodb": {"NewImage": {"version": {"N": [{"numeric": ["=", 3]}]}}}},
        False,
    ),
    ("number is not its string", {"count": ["5"]}, False),
    ("number equals", {"count": [5]}, True),
    ("boolean", {"flag": [True]}, True),
    ("boolean is not 1", {"flag": [1]}, False),
    ("array value: any element", {"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}, True),
    ("wildcard", {"dynamodb": {"NewImage": {"file": {"S": [{"wildcard": "photo.*"}]}}}}, True),
    ("cidr", {"ip": [{"cidr": "10.0.0.0/24"}]}, True),
    ("$or", {"$or": [{"eventName": ["REMOVE"]}, {"count": [5]}]}, True),
    ("mixed rules are OR-ed", {"eventName": [{"prefix": "MOD"}, "INSERT"]}, True),
]


@pytest.mark.parametrize(("name", "pattern", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_filter_pattern_matches_as_lambda_matches_it(
    name: str, pattern: dict[str, Any], expected: bool
) -> None:
    assert matches(parse_pattern(pattern), RECORD) is expected


def test_filters_are_ored_and_none_lets_all_through() -> None:
    insert = parse_pattern({"eventName": ["INSERT"]})
    remove = parse_pattern({"eventName": ["REMOVE"]})
    assert matches_any([remove, insert], RECORD)
    assert not matches_any([remove], RECORD)
    assert matches_any([], RECORD)


@pytest.mark.parametrize(
    "pattern",
    [
        [],
        {},
        {"a": "not-a-list"},
        {"a": []},
        {"a": [{"unknown-op": 1}]},
        {"a": [{"numeric": [">>", 1]}]},
        {"a": [{"exists": "yes"}]},
        {"a": [["nested"]]},
    ],
)
def test_invalid_patterns_are_rejected(pattern: Any) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_pattern(pattern)
