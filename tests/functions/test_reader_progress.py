"""A stream reader's progress item (event_sourcing/dynamodb/progress.py), on moto: in both
tables that hold one, it keeps the newest batch ends (one per shard at most, found by the
operator's stream reader) and the newest event applied across every shard's batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from event_sourcing.dynamodb.progress import MAX_POSITIONS, SLOTS, Failure, ProgressLog
from tests.support.tables import create_tables

AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["ViewsTable", "IdempotencyTable"])
def log(request: pytest.FixtureRequest) -> Iterator[ProgressLog]:
    import boto3

    from tests.support.aws import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        tables = create_tables(client)
        key = "id" if request.param == "IdempotencyTable" else "pk"
        yield ProgressLog(client, tables[request.param], key=key)


def batch(
    log: ProgressLog, n: int, *, newest: str | None, failures: Sequence[Failure] = ()
) -> None:
    log.record(
        "projector",
        at=AT + timedelta(seconds=n),
        newest_event_at=newest,
        sequence_number=f"{n:021d}" if newest else None,
        held_back=len(failures),
        applied=1 if newest else 0,
        failures=failures,
    )


def test_the_newest_batch_ends_are_kept_and_the_oldest_dropped_past_the_bound(
    log: ProgressLog,
) -> None:
    batches = SLOTS * MAX_POSITIONS + 40
    for n in range(batches):
        batch(log, n, newest=(AT - timedelta(minutes=n)).isoformat())

    progress = log.read("projector")

    kept = sorted(progress.positions)
    assert len(kept) <= SLOTS * MAX_POSITIONS  # each slot keeps its newest MAX_POSITIONS
    assert kept[-1] == f"{batches - 1:021d}"
    assert f"{0:021d}" not in kept
    assert progress.positions_dropped
    assert progress.applied == batches


def test_the_newest_applied_event_is_the_newest_of_every_batch_not_the_last_batchs(
    log: ProgressLog,
) -> None:
    batch(log, 1, newest=AT.isoformat())
    batch(log, 2, newest=(AT - timedelta(hours=1)).isoformat())  # another shard, behind
    failed = Failure("order-1", 3, "ValueError: no", AT.isoformat())
    batch(log, 3, newest=None, failures=[failed])

    progress = log.read("projector")

    assert progress.newest_event_at == AT.isoformat()
    assert sorted(progress.positions) == [f"{1:021d}", f"{2:021d}"]
    assert not progress.positions_dropped
    assert progress.errors == {"order-1": failed}
    assert progress.held_back == 1


def test_a_failure_keeps_no_email_address_its_error_names() -> None:
    """Progress items outlive an erasure: a provider's refusal that names the customer's
    address is kept without it."""
    refused = RuntimeError("MessageRejected: Email address is not verified: ada@example.com.")

    failure = Failure.of("order-1", 3, refused, datetime(2026, 12, 1, tzinfo=UTC))

    assert "ada@example.com" not in failure.error
    assert failure.error == "RuntimeError: MessageRejected: Email address is not verified: <email>."
    assert (failure.stream_id, failure.version, failure.at) == (
        "order-1",
        3,
        "2026-12-01T00:00:00+00:00",
    )
