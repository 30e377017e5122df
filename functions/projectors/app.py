"""The projector: DynamoDB Streams -> views, with Powertools' batch utility.

Per stream, records are applied in version order (gaps filled from the event table); a
failed record holds back its stream's later records (functions/shared/streams.py)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.shared.observability import entry_point, metrics
from functions.shared.streams import ordered_batches
from infra.container import Container as Root


def record_handler(record: DynamoDBRecord, stream_id: str, root: Root) -> None:
    from event_sourcing.dynamodb.event_store import event_of

    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    # Validated here, not by a parser model: one bad record must not sink the batch.
    outcome = root.projector.project(event_of(image))
    metrics.add_metric(name="EventsProjected", unit="Count", value=len(outcome.applied))
    if outcome.duplicate:
        metrics.add_metric(name="DuplicateRecords", unit="Count", value=1)


project_batch = ordered_batches(record_handler, what="projection", reader="projector")
handler = entry_point(project_batch)
