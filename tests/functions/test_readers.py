"""The operator's view of the stream readers (infra/readers.py) agrees with the template:
each reader's record filter is its mapping's FilterCriteria."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from devstack.filters import matches_any
from event_sourcing.events import registry
from infra.readers import READERS, Reader
from tests.support.template import stream_mapping


def insert(kind: str, stream_id: str, type: str) -> dict[str, Any]:
    image = {
        "kind": {"S": kind},
        "stream_id": {"S": stream_id},
        "version": {"N": "1"},
        "type": {"S": type},
    }
    return {"eventName": "INSERT", "dynamodb": {"NewImage": image}}


def registry_types() -> list[str]:
    # Every event type registers itself when its module is imported.
    for module in ("domain.processes", "domain.projections"):
        importlib.import_module(module)

    return registry.names()


RECORDS = [
    insert(kind, stream, type)
    for kind in ("event", "claim", "hold")
    for stream in ("order-1", "product-1", "user-1", "inventory-1", "review-1.2", "category-1")
    for type in registry_types()
]


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_a_readers_filter_is_its_mappings_filter_criteria(reader: Reader) -> None:
    filters = stream_mapping(reader.function).filters
    for record in RECORDS:
        expected = matches_any(filters, record)
        assert reader.follows(record["dynamodb"]["NewImage"]) == expected, record
