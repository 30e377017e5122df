"""The outside calls: the consumer of the outside-calls queue (template.yaml,
OutsideCallsQueue). Each message names a stream whose state calls for a step that talks
to a payment provider or a mailer (`DueWork`); this runs every such step due now (a
charge; a refund, then its email), each recorded as events before the next, and nothing
when none is due (a copy of a message already done, or the stream's own step comes first).

Idempotent under redelivery and lost acks: the step is decided on the stored state (a step
done is recorded, so a second copy finds nothing due), and a crash between the call and its
record calls again with the same idempotency key (Stripe's keys; the send-once layer for
SES), so nothing is charged or mailed twice. A failed message is reported alone
(ReportBatchItemFailures): SQS makes it visible again after its visibility timeout, and
after maxReceiveCount receives moves it to the dead-letter queue (`eventshop-admin
failures`, `redrive`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from event_sourcing.dynamodb.progress import Failure
from functions.shared.observability import entry_point, logger, metrics
from infra.container import Container as Root

processor = BatchProcessor(event_type=EventType.SQS)
CONSUMER = "outside-calls"
"""Its name in eventshop-admin status (infra/readers.py, CONSUMERS)."""


def run_batch(event: dict[str, Any], context: Any, root: Root) -> PartialItemFailureResponse:
    from infra.work_queue import work_of

    done_count = 0
    failures: list[Failure] = []

    def run(record: SQSRecord) -> None:
        nonlocal done_count
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            work = work_of(record.body)
        except ValueError as error:
            failures.append(_failure("?", 0, error))
            raise
        try:
            done = root.processes.call_out(work)
        except Exception as error:
            logger.exception(
                "outside step failed",
                extra={"stream_id": work.stream_id, "step": work.step, "receives": receives},
            )
            failures.append(_failure(work.stream_id, work.version, error))
            raise
        done_count += 1
        for step in done:
            metrics.add_metric(name=f"ProcessStep_{step}", unit="Count", value=1)
        logger.info(
            "outside steps done" if done else "no outside step due",
            extra={"stream_id": work.stream_id, "steps": done, "receives": receives},
        )

    try:
        return process_partial_response(
            event=event, record_handler=run, processor=processor, context=context
        )
    finally:
        _report(root, done_count, failures)


def _failure(stream_id: str, version: int, error: Exception) -> Failure:
    return Failure.of(stream_id, version, error, datetime.now(UTC))


def _report(root: Root, done: int, failures: list[Failure]) -> None:
    """The consumer's count and last errors, for `eventshop-admin status` and `failures`."""
    metrics.add_metric(name="OutsideCallsFailed", unit="Count", value=len(failures))
    try:
        root.progress(CONSUMER).record(
            CONSUMER,
            at=datetime.now(UTC),
            newest_event_at=None,
            sequence_number=None,
            held_back=len(failures),
            applied=done,
            failures=failures,
        )
    except Exception:  # status is informative: a batch is never failed for it
        logger.exception("could not record the consumer's progress")


handler = entry_point(run_batch)
