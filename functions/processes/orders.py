"""The place-order process: the event table's second stream consumer (orders only).

For each order event it asks the order which step comes next and does it, once: steps are
idempotent and record their outcome as events, so a redelivered or crashed step is
resumed, never repeated. Per order, a failed record holds back that order's later records
in the batch (they are reported failed without running), so steps stay in order."""

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


class OrderBlocked(Exception):
    """An earlier record of this order failed in this batch: this one waits for it."""


_blocked: set[str] = set()


def record_handler(record: DynamoDBRecord) -> None:
    from infra.container import container
    from infra.dynamodb.items import event_of

    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    stream_id = (image.get("stream_id") or {}).get("S", "?")
    if stream_id in _blocked:
        raise OrderBlocked(stream_id)
    try:
        event = event_of(image)
        step = container().order_process.handle(
            stream_id.removeprefix("order-"),
            event.version,
            correlation_id=event.metadata.correlation_id,
            causation_id=event.metadata.event_id,
        )
    except Exception:
        _blocked.add(stream_id)
        logger.exception("order step failed", extra={"stream_id": stream_id})
        raise
    if step is not None:
        logger.info("order step done", extra={"stream_id": stream_id, "step": str(step)})
        metrics.add_metric(name=f"OrderStep_{step}", unit="Count", value=1)


def run_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    _blocked.clear()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


handler = entry_point(run_batch)
