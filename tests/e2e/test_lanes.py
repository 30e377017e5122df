"""The local stack's stream pump over the real template: each reader of the event stream
hands a shard's records to as many lanes as its ParallelizationFactor, each partition key
to one lane, in order (as Lambda does; docs/architecture.md, "Parallel lanes")."""

from __future__ import annotations

import time

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import Client

pytestmark = pytest.mark.e2e


def test_each_reader_of_the_event_stream_reads_a_shard_in_its_mappings_lanes(
    api: Client, stack: LocalStack
) -> None:
    created = api.call("POST", "/users", {"email": "lanes@e2e.example.com", "password": "pw lanes"})
    assert created.status_code in (201, 409), created.text
    pump = stack._pump
    assert pump is not None
    deadline = time.monotonic() + 10
    while not all(p.readers for p in pump._pollers):
        assert time.monotonic() < deadline, "the pump reads no shard"
        time.sleep(0.05)
    factors = {
        m.function_logical_id: m.parallelization_factor
        for m in stack.deployment.model.stream_mappings
    }
    lanes = {
        p.spec.function_logical_id: {len(r.lanes) for r in list(p.readers.values())}
        for p in pump._pollers
    }
    assert factors == {"ProjectorFunction": 4, "OrderProcessFunction": 10}
    assert lanes == {function: {factor} for function, factor in factors.items()}
