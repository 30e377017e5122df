"""The outside-calls queue (SQS): where the event table's second reader hands the steps
that call a payment provider or a mailer, so no stream shard waits on them.

A message is a `DueWork` as JSON. Sending is at least once (a lost answer resends): the
consumer decides on the order's state, so a second copy finds its step done."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from event_sourcing.process import DueWork, WorkQueue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsWorkQueue(WorkQueue):
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, work: DueWork) -> None:
        # One message per due step: 1 SQS request (64 KB billing unit), no DynamoDB write.
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(work.as_dict(), sort_keys=True),
        )


def work_of(body: str) -> DueWork:
    """The `DueWork` a message body carries; ValueError for anything else."""
    try:
        raw = json.loads(body)
    except ValueError as error:
        raise ValueError(f"a due-work message is JSON, not {body[:80]!r}: {error}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"a due-work message is a JSON object, not {body[:80]!r}")
    return DueWork.from_dict(raw)
