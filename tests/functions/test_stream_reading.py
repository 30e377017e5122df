"""The operator's one reader of the event table's stream (infra/readers.py), against a
stream that behaves as AWS's does: shards listed a page at a time, children before their
parents, empty pages in the middle of a shard, closed parents and open children, each
shard numbering its records its own way. `status`, `failures`, `redrive` and the console
all read through it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from event_sourcing.dynamodb.progress import MAX_POSITIONS, Failure, ReaderProgress
from infra.readers import (
    IDLE_PAGES,
    READERS,
    Parked,
    ParkedQueue,
    StreamReader,
    TableStream,
)
from tests.fakes.streams import FakeShard, FakeStreams, event_image

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PROJECTOR = READERS[0]


def minutes_ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def lineage() -> FakeStreams:
    """A closed parent (4 records) with an open child (3), and an open shard of its own
    (3) whose sequence numbers are all larger than the others'."""
    parent = FakeShard("shard-a", first=1_000)
    child = FakeShard("shard-a2", parent="shard-a", first=5_000)
    other = FakeShard("shard-b", first=900_000)
    fake = FakeStreams([parent, child, other])
    for version in range(1, 5):
        fake.add("shard-a", event_image("product-1", version, minutes_ago(60 - version)))
    parent.closed = True
    for version in range(5, 8):
        fake.add("shard-a2", event_image("product-1", version, minutes_ago(50 - version)))
    for version in range(1, 4):
        fake.add("shard-b", event_image("order-9", version, minutes_ago(40 - version)))
    return fake


def numbers(fake: FakeStreams, shard: str) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in fake.shards[shard].records]


def reader(
    fake: FakeStreams, progress: ReaderProgress, queue: ParkedQueue | None = None
) -> StreamReader:
    caught_up: list[str] = []
    log = [progress]

    def redriven(parked: Parked) -> None:  # as the progress log records a batch's end
        ends = {**log[0].positions, parked.last: NOW.isoformat()}
        log[0] = replace(log[0], positions=ends)

    reading = StreamReader(
        PROJECTOR,
        stream=lambda: TableStream(fake, fake.arn),
        progress=lambda: log[0],
        queue=lambda: queue,
        catch_up=caught_up.append,
        now=lambda: NOW,
        redriven=redriven,
    )
    reading.caught_up = caught_up  # type: ignore[attr-defined]
    return reading


def progress(*ends: str, newest: datetime | None = None, **more: Any) -> ReaderProgress:
    at = {n: minutes_ago(1 - i / 100).isoformat() for i, n in enumerate(ends)}
    return ReaderProgress(
        "projector",
        newest_event_at=newest.isoformat() if newest else None,
        positions=at,
        **more,
    )


def test_every_shard_of_every_page_is_read_parents_before_children_through_empty_pages() -> None:
    fake = lineage()
    stream = TableStream(fake, fake.arn)
    read = [(shard.id, r["dynamodb"]["SequenceNumber"]) for shard, r in stream.every()]

    assert fake.calls["DescribeStream"] == 2, "two pages of shards"
    shards = [shard for shard, _ in read]
    assert shards.index("shard-a") < shards.index("shard-a2"), "the parent first"
    expected = {(s, n) for s in ("shard-a", "shard-a2", "shard-b") for n in numbers(fake, s)}
    assert set(read) == expected
    assert len(read) == 10, "no record twice"


def test_an_open_shard_is_read_to_its_tip_then_stops_after_a_run_of_empty_pages() -> None:
    fake = FakeStreams([FakeShard("open")], records_per_page=1, empty_pages=IDLE_PAGES - 1)
    for version in range(1, 4):
        fake.add("open", event_image("product-1", version, minutes_ago(5)))
    stream = TableStream(fake, fake.arn)

    (shard,) = stream.shards()
    assert len(list(stream.records(shard))) == 3, "read through the empty pages between"
    # 3 records, each after IDLE_PAGES - 1 empty pages, then IDLE_PAGES at the tip
    assert fake.calls["GetRecords"] == 3 * IDLE_PAGES + IDLE_PAGES


def test_a_reader_that_applied_everything_has_no_lag_however_old_its_newest_event() -> None:
    fake = lineage()
    done = progress(
        numbers(fake, "shard-a2")[-1],
        numbers(fake, "shard-b")[-1],
        newest=minutes_ago(38),
    )

    status = reader(fake, done).status()

    assert status.lag_seconds == 0
    assert status.events_behind == 0
    assert status.newest_applied_event_age_seconds == 38 * 60
    assert status.position == {
        "shard-a": numbers(fake, "shard-a")[-1],  # done: its child has a position
        "shard-a2": numbers(fake, "shard-a2")[-1],
        "shard-b": numbers(fake, "shard-b")[-1],
    }
    assert status.shards == 3


def test_lag_is_the_age_of_the_oldest_event_not_applied_counted_in_each_shard_on_its_own() -> None:
    fake = lineage()
    # shard-b's position is numerically above every record of shard-a: compared across
    # shards it would hide shard-a's records; each shard is measured against its own
    partly = progress(numbers(fake, "shard-a")[1], numbers(fake, "shard-b")[0])

    status = reader(fake, partly).status()

    assert status.events_behind == 2 + 3 + 2
    assert status.lag_seconds == (60 - 3) * 60, "product-1 v3, the oldest not applied"
    assert status.newest_applied_event_age_seconds is None
    assert status.position == {
        "shard-a": numbers(fake, "shard-a")[1],
        "shard-a2": None,
        "shard-b": numbers(fake, "shard-b")[0],
    }


def test_a_reader_that_never_ran_is_behind_by_every_record_it_is_given() -> None:
    fake = lineage()
    fake.add("shard-b", {**event_image("order-9", 4, minutes_ago(1)), "kind": {"S": "claim"}})

    status = reader(fake, ReaderProgress("projector")).status()

    assert status.events_behind == 10, "the claim is not the projector's"
    assert status.lag_seconds == 59 * 60


def test_with_old_batch_ends_dropped_a_shard_without_a_kept_one_counts_only_newer_records() -> None:
    fake = FakeStreams([FakeShard("quiet", first=7), FakeShard("busy", first=3)])
    fake.add("quiet", event_image("product-1", 1, minutes_ago(30)))
    for version in range(1, MAX_POSITIONS + 1):
        fake.add("busy", event_image("product-2", version, minutes_ago(20 - version / 100)))
    fake.add("quiet", event_image("product-1", 2, minutes_ago(1)))
    # the quiet shard's batch end was dropped
    kept = progress(*numbers(fake, "busy"), positions_dropped=True)

    status = reader(fake, kept).status()

    assert status.events_behind == 1, "v2 came after the oldest kept batch end: not applied"
    assert status.lag_seconds == 60


def test_a_parked_batch_is_read_from_its_own_shard_and_range_only() -> None:
    fake = lineage()
    first, last = numbers(fake, "shard-a2")[0], numbers(fake, "shard-a2")[1]
    body = {
        "requestContext": {"condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {
            "shardId": "shard-a2",
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": "2026-12-06T11:13:00Z",
        },
    }
    queue = FakeQueue([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": json.dumps(body)}])
    failure = Failure("product-1", 5, "ValueError: no", minutes_ago(2).isoformat())
    log = ReaderProgress("projector", errors={"product-1": failure})
    reading = reader(fake, log, ParkedQueue(queue, "url"))

    (parked,) = reading.parked()

    assert parked.streams == {"product-1": [5, 6]}
    assert parked.errors == {"product-1": "ValueError: no"}
    assert not parked.trimmed
    assert reading.status().parked_batches == 1

    assert reading.status().position["shard-a2"] is None
    assert reading.redrive(parked) == (True, "1 streams caught up: product-1")
    assert reading.caught_up == ["product-1"]  # type: ignore[attr-defined]
    assert queue.deleted == ["r1"]
    # applied now: the batch's end is the shard's position, its records no longer behind
    assert reading.status().position["shard-a2"] == last


class FakeQueue:
    """The SQS calls of an on-failure queue."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.deleted: list[str] = []

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(len(self.messages)),
                "ApproximateNumberOfMessagesNotVisible": "0",
            }
        }

    def receive_message(self, **_: Any) -> dict[str, Any]:
        return {"Messages": list(self.messages)}

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803
        self.deleted.append(ReceiptHandle)
        self.messages = [m for m in self.messages if m["ReceiptHandle"] != ReceiptHandle]
