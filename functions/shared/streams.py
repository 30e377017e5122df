"""One ordered batch processor for both readers of the event table's stream.

DynamoDB Streams orders records per item only, and Powertools' `BatchProcessor` runs every
record of a batch even after one failed. So, per batch: once a record of a stream fails,
that stream's later records are reported failed without running (Lambda retries them, in
order, after the failed one); records of other streams go on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.observability import logger

RecordHandler = Callable[[DynamoDBRecord, str], None]


class StreamBlocked(Exception):
    """An earlier record of this stream failed in this batch: this one waits for it."""


def stream_of(record: DynamoDBRecord) -> str:
    """The event stream a table-stream record belongs to ("?" for an item that is no event)."""
    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    return str((image.get("stream_id") or {}).get("S", "?"))


BatchHandler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]


def ordered_batches(handle: RecordHandler, *, what: str) -> BatchHandler:
    """A batch handler running `handle(record, stream_id)` per record, stopping each stream
    at its first failure (`what` names a failure in the logs)."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def process_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        blocked: set[str] = set()

        def run(record: DynamoDBRecord) -> None:
            stream_id = stream_of(record)
            if stream_id in blocked:
                raise StreamBlocked(stream_id)
            try:
                handle(record, stream_id)
            except Exception:
                blocked.add(stream_id)
                logger.exception(f"{what} failed", extra={"stream_id": stream_id})
                raise

        return process_partial_response(
            event=event, record_handler=run, processor=processor, context=context
        )

    return process_batch
