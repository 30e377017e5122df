"""The projector: DynamoDB Streams -> views, with Powertools' batch utility.

Per stream, records are applied in version order (gaps filled from the event table). Once
a record of a stream fails, the later records of that stream in the batch are reported
failed too without running, so Lambda retries them in order; other streams go on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.observability import entry_point, logger, metrics

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class StreamBlocked(Exception):
    """An earlier record of this stream failed in this batch: this one waits for it."""


class _Batch:
    def __init__(self) -> None:
        self.blocked: set[str] = set()


_batch = _Batch()


def record_handler(record: DynamoDBRecord) -> None:
    from infra.container import container
    from infra.dynamodb.items import event_of

    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    stream_id = (image.get("stream_id") or {}).get("S", "?")
    if stream_id in _batch.blocked:
        raise StreamBlocked(stream_id)
    try:
        # Validated here, not by a parser model: one bad record must not sink the batch.
        outcome = container().projector.project(event_of(image))
    except Exception:
        _batch.blocked.add(stream_id)
        logger.exception("projection failed", extra={"stream_id": stream_id})
        raise
    metrics.add_metric(name="EventsProjected", unit="Count", value=len(outcome.applied))
    if outcome.duplicate:
        metrics.add_metric(name="DuplicateRecords", unit="Count", value=1)


def project_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    _batch.blocked = set()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


handler = entry_point(project_batch)
