"""The place-order process: the event table's second stream consumer (orders only).

For each order event it asks the order which step comes next and does it, once: steps are
idempotent and record their outcome as events, so a redelivered or crashed step is
resumed, never repeated. Per order, a failed record holds back that order's later records
in the batch (functions/shared/streams.py), so steps stay in order."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.observability import entry_point, logger, metrics
from functions.shared.streams import ordered_batches


def record_handler(record: DynamoDBRecord, stream_id: str) -> None:
    from infra.container import container
    from infra.dynamodb.items import event_of

    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    event = event_of(image)
    step = container().order_process.handle(
        stream_id.removeprefix("order-"),
        event.version,
        correlation_id=event.metadata.correlation_id,
        causation_id=event.metadata.event_id,
    )
    if step is not None:
        logger.info("order step done", extra={"stream_id": stream_id, "step": str(step)})
        metrics.add_metric(name=f"OrderStep_{step}", unit="Count", value=1)


run_batch = ordered_batches(record_handler, what="order step", reader="order-process")
handler = entry_point(run_batch)
