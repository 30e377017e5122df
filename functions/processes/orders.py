"""The processes: the event table's second stream reader (domain/processes.py).

Order events drive the place-order process; a user's registration and reset requests drive
the user mail (welcome, reset link). For each event it asks the aggregate which step comes
next: a step that only writes the store (reserve, request the payment, confirm, release)
it does here, once; a step that calls a payment provider or a mailer it sends to the
outside-calls queue (functions/processes/calls.py), so no shard waits on Stripe or SES.
Steps are idempotent and record their outcome as events, so a redelivered or crashed step
is resumed, never repeated. Per stream, a failed record holds back that stream's later
records in the batch (functions/shared/streams.py), so steps stay in order."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.observability import entry_point, logger, metrics
from functions.shared.streams import ordered_batches, stream_of
from infra.container import Container as Root

_last_of_stream: dict[str, str] = {}
"""The batch's last record (sequence number) of each stream: only its handling sends the
outside step due. Earlier records of the stream see the same state or an older one, and
the last is handled after them (or retried, if it fails), so one message per stream and
batch is enough: fewer messages, each a consumer's read of the order."""


def record_handler(record: DynamoDBRecord, stream_id: str, root: Root) -> None:
    from event_sourcing.dynamodb.event_store import event_of

    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    event = event_of(image)
    progress = root.processes.step_in_store(
        stream_id,
        event.version,
        correlation_id=event.metadata.correlation_id,
        causation_id=event.metadata.event_id,
        queue=root.work_queue,
        send=_last_of_stream.get(stream_id)
        == str((record.raw_event.get("dynamodb") or {}).get("SequenceNumber")),
    )
    if progress.done is not None:
        logger.info("process step done", extra={"stream_id": stream_id, "step": progress.done})
        metrics.add_metric(name=f"ProcessStep_{progress.done}", unit="Count", value=1)
    if progress.due is not None:
        logger.info("outside step queued", extra={"stream_id": stream_id, "step": progress.due})
        metrics.add_metric(name="OutsideStepsQueued", unit="Count", value=1)


_run_records = ordered_batches(record_handler, what="process step", reader="order-process")


def run_batch(event: dict[str, Any], context: Any, root: Root) -> PartialItemFailureResponse:
    _last_of_stream.clear()
    for raw in event.get("Records") or []:
        record = DynamoDBRecord(raw)
        number = (raw.get("dynamodb") or {}).get("SequenceNumber")
        _last_of_stream[stream_of(record)] = str(number)
    return _run_records(event, context, root)


handler = entry_point(run_batch)
