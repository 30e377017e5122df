"""The processes: the event table's second stream reader (domain/processes.py).

Order events drive the place-order process; a user's registration and reset requests drive
the user mail (welcome, reset link). For each event it asks the aggregate which step comes
next and does it, once: steps are idempotent and record their outcome as events, so a
redelivered or crashed step is resumed, never repeated. Per stream, a failed record holds
back that stream's later records in the batch (functions/shared/streams.py), so steps stay
in order."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.observability import entry_point, logger, metrics
from functions.shared.streams import ordered_batches
from infra.container import Container as Root


def record_handler(record: DynamoDBRecord, stream_id: str, root: Root) -> None:
    from event_sourcing.dynamodb.items import event_of

    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    event = event_of(image)
    step = root.processes.handle(
        stream_id,
        event.version,
        correlation_id=event.metadata.correlation_id,
        causation_id=event.metadata.event_id,
    )
    if step is not None:
        logger.info("process step done", extra={"stream_id": stream_id, "step": step})
        metrics.add_metric(name=f"ProcessStep_{step}", unit="Count", value=1)


run_batch = ordered_batches(record_handler, what="process step", reader="order-process")
handler = entry_point(run_batch)
