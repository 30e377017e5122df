"""The one ordered batch processor both stream readers use: a stream stops at its first
failed record within a batch; other streams go on; the next batch starts afresh."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.streams import ordered_batches
from infra.container import Container
from tests.support.lambda_context import FakeLambdaContext

NOWHERE = Container(env={})
"""A composition root with no tables: the reader's progress is not recorded (and says so
in the log), which never fails a batch."""


def record(stream_id: str, version: int) -> dict[str, Any]:
    return {
        "eventID": f"{stream_id}-{version}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "SequenceNumber": f"{version:04d}{stream_id}",
            "NewImage": {"stream_id": {"S": stream_id}, "version": {"N": str(version)}},
        },
    }


class Handler:
    def __init__(self, failing: set[tuple[str, int]]) -> None:
        self.failing = failing
        self.ran: list[tuple[str, int]] = []

    def __call__(self, raw: DynamoDBRecord, stream_id: str, root: Container) -> None:
        version = int(raw.raw_event["dynamodb"]["NewImage"]["version"]["N"])
        self.ran.append((stream_id, version))
        if (stream_id, version) in self.failing:
            raise RuntimeError(f"{stream_id} v{version} fails")


def failed(answer: Any) -> list[str]:
    return [f["itemIdentifier"] for f in answer["batchItemFailures"]]


@pytest.fixture
def batch() -> dict[str, Any]:
    return {"Records": [record("a", 1), record("b", 1), record("a", 2), record("b", 2)]}


def test_a_failed_record_holds_back_its_streams_later_records_without_running_them(
    batch: dict[str, Any],
) -> None:
    handler = Handler(failing={("a", 1)})
    answer = ordered_batches(handler, what="test", reader="test")(
        batch, FakeLambdaContext(), NOWHERE
    )

    assert handler.ran == [("a", 1), ("b", 1), ("b", 2)]
    assert failed(answer) == ["0001a", "0002a"]


def test_other_streams_go_on_past_a_failure(batch: dict[str, Any]) -> None:
    handler = Handler(failing={("b", 2)})
    answer = ordered_batches(handler, what="test", reader="test")(
        batch, FakeLambdaContext(), NOWHERE
    )

    assert handler.ran == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert failed(answer) == ["0002b"]


def test_the_next_batch_starts_with_no_stream_held_back(batch: dict[str, Any]) -> None:
    handler = Handler(failing={("a", 1)})
    process = ordered_batches(handler, what="test", reader="test")
    process(batch, FakeLambdaContext(), NOWHERE)
    handler.failing.clear()
    handler.ran.clear()

    assert failed(process(batch, FakeLambdaContext(), NOWHERE)) == []
    assert handler.ran == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]


def test_each_batch_publishes_the_readers_lag_and_what_it_held_back(
    batch: dict[str, Any],
) -> None:
    from functions.shared.observability import metrics

    for n, item in enumerate(batch["Records"]):
        item["dynamodb"]["NewImage"]["occurred_at"] = {"S": f"2026-12-02T10:00:0{n}.000Z"}
    metrics.clear_metrics()
    ordered_batches(Handler(failing={("b", 2)}), what="test", reader="test")(
        batch, FakeLambdaContext(), NOWHERE
    )

    published = metrics.metric_set
    assert published["RecordsHeldBack"]["Value"] == [1.0]
    # the newest event applied is a2 (b2 failed): its age, in seconds
    (age,) = published["NewestEventAgeSeconds"]["Value"]
    assert age > 0
    metrics.clear_metrics()
