"""One ordered batch processor for both readers of the event table's stream.

DynamoDB Streams orders records per item only, and Powertools' `BatchProcessor` runs every
record of a batch even after one failed. So, per batch: once a record of a stream fails,
that stream's later records are reported failed without running (Lambda retries them, in
order, after the failed one); records of other streams go on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from event_sourcing.dynamodb.progress import Failure
from functions.shared.observability import logger, metrics
from infra.container import Container as Root

RecordHandler = Callable[[DynamoDBRecord, str, Root], None]


class StreamBlocked(Exception):
    """An earlier record of this stream failed in this batch: this one waits for it."""


def stream_of(record: DynamoDBRecord) -> str:
    """The event stream a table-stream record belongs to ("?" for an item that is no event)."""
    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    return str((image.get("stream_id") or {}).get("S", "?"))


BatchHandler = Callable[[dict[str, Any], Any, Root], PartialItemFailureResponse]


def ordered_batches(handle: RecordHandler, *, what: str, reader: str) -> BatchHandler:
    """A batch handler running `handle(record, stream_id, root)` per record, stopping each stream
    at its first failure (`what` names a failure in the logs). After each batch, the
    reader's lag is published (EMF: NewestEventAgeSeconds, RecordsHeldBack) and its
    progress recorded for `eventshop-admin status` (infra/dynamodb/progress.py)."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def process_batch(
        event: dict[str, Any], context: Any, root: Root
    ) -> PartialItemFailureResponse:
        blocked: set[str] = set()
        failures: list[Failure] = []

        def run(record: DynamoDBRecord) -> None:
            stream_id = stream_of(record)
            if stream_id in blocked:
                raise StreamBlocked(stream_id)
            try:
                handle(record, stream_id, root)
            except Exception as error:
                blocked.add(stream_id)
                logger.exception(f"{what} failed", extra={"stream_id": stream_id})
                image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
                version = int((image.get("version") or {}).get("N", 0))
                failures.append(Failure.of(stream_id, version, error, datetime.now(UTC)))
                raise

        records = event.get("Records") or []
        try:
            response = process_partial_response(
                event=event, record_handler=run, processor=processor, context=context
            )
        except BatchProcessingError:  # every record failed: Lambda retries the whole batch
            every = [(r.get("dynamodb") or {}).get("SequenceNumber") for r in records]
            _report(
                root,
                reader,
                records,
                {"batchItemFailures": [{"itemIdentifier": str(n)} for n in every]},
                failures,
            )
            raise
        _report(root, reader, records, response, failures)
        return response

    return process_batch


def _report(
    root: Root,
    reader: str,
    records: list[dict[str, Any]],
    response: PartialItemFailureResponse,
    failures: list[Failure],
) -> None:
    """Lag as metrics and as the reader's progress item. Applied: the records before the
    batch's first failure (Lambda's checkpoint moves past those only)."""
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    applied: list[dict[str, Any]] = []
    for record in records:
        if (record.get("dynamodb") or {}).get("SequenceNumber") in failed:
            break
        applied.append(record)
    times = [
        str(((r.get("dynamodb") or {}).get("NewImage") or {}).get("occurred_at", {}).get("S"))
        for r in applied
        if ((r.get("dynamodb") or {}).get("NewImage") or {}).get("occurred_at")
    ]
    newest = max(times) if times else None
    now = datetime.now(UTC)
    if newest is not None:
        age = (now - datetime.fromisoformat(newest)).total_seconds()
        metrics.add_metric(name="NewestEventAgeSeconds", unit="Seconds", value=max(age, 0.0))
    metrics.add_metric(name="RecordsHeldBack", unit="Count", value=len(failed))
    last = (applied[-1].get("dynamodb") or {}).get("SequenceNumber") if applied else None
    try:
        root.progress(reader).record(
            reader,
            at=now,
            newest_event_at=newest,
            sequence_number=last,
            held_back=len(failed),
            applied=len(applied),
            failures=failures,
        )
    except Exception:  # status is informative: a batch is never failed for it
        logger.exception("could not record the reader's progress", extra={"reader": reader})
