"""A stream reader's progress is spread over items (every batch of every shard would
otherwise write one item) and read back merged; the one item the previous release wrote
reads as slot 0's (issue #20, items 1 and 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from event_sourcing.dynamodb.progress import Failure, ProgressLog
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T0 = datetime(2026, 12, 6, tzinfo=UTC)


def test_batches_write_many_items_and_read_back_as_one_progress(dynamodb: DynamoDBClient) -> None:
    table = table_name("ViewsTable")
    dynamodb.put_item(  # as the previous release left it
        TableName=table,
        Item={
            "pk": {"S": "reader#projector"},
            "sk": {"S": "#"},
            "batch_at": {"S": (T0 - timedelta(hours=1)).isoformat()},
            "held_back": {"N": "0"},
            "applied": {"N": "100"},
            "errors": {
                "M": {
                    "order-1": {
                        "M": {
                            "version": {"N": "3"},
                            "error": {"S": "old"},
                            "at": {"S": "2026-12-05T00:00:00+00:00"},
                        }
                    }
                }
            },
            "sequence_number": {"S": "000"},
        },
    )
    log = ProgressLog(dynamodb, table)
    for n in range(40):
        failures = [Failure("order-1", 4, "new", T0.isoformat())] if n == 39 else []
        log.record(
            "projector",
            at=T0 + timedelta(seconds=n),
            newest_event_at=(T0 + timedelta(seconds=n)).isoformat(),
            sequence_number=f"{n + 1:03d}",
            held_back=n % 3,
            applied=2,
            failures=failures,
        )
    written = [
        item["pk"]["S"]
        for item in dynamodb.scan(TableName=table)["Items"]
        if item["pk"]["S"].startswith("reader#projector")
    ]
    assert len(written) > 8, "the batches spread over items"

    progress = log.read("projector")

    assert progress.applied == 100 + 80
    assert progress.batch_at == (T0 + timedelta(seconds=39)).isoformat()
    assert (progress.sequence_number, progress.held_back) == ("040", 39 % 3)
    assert progress.newest_event_at == (T0 + timedelta(seconds=39)).isoformat()
    assert progress.errors["order-1"].error == "new"


def test_a_reader_that_never_ran_reads_empty(dynamodb: DynamoDBClient) -> None:
    progress = ProgressLog(dynamodb, table_name("IdempotencyTable"), key="id").read("p")
    assert (progress.batch_at, progress.applied, dict(progress.errors)) == (None, 0, {})
