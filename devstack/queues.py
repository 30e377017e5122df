"""SQS event source mappings, polled as Lambda's SQS poller does.

Per mapping, a few pollers (Lambda starts with five; `ScalingConfig.MaximumConcurrency`
caps them) each receive up to `BatchSize` messages, invoke the function with the batch,
and delete what succeeded: every message when the invocation succeeds; with
`ReportBatchItemFailures`, every message but the reported ones (an answer naming an
unknown id fails the whole batch, as on AWS); none when the function errs. A message not
deleted comes back when its visibility timeout runs out, and once it has been received
`maxReceiveCount` times SQS itself (moto, here) moves it to the queue's dead-letter queue
(`RedrivePolicy`). Messages that no `FilterCriteria` pattern matches are deleted unread,
as Lambda does. Receive and delete run with the function's own access key (its role), as
Lambda's poller does with the execution role."""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.filters import matches_any
from devstack.logs import LogSink
from devstack.runtime import Invoker, InvokeResult
from devstack.sam import QueueMappingSpec

POLLERS = 5
"""Lambda's SQS poller starts with five concurrent batches per mapping."""
POLL_SECONDS = 0.05
MAX_IDLE_SECONDS = 0.4

Message = dict[str, Any]


def lambda_sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends, from a ReceiveMessage message."""
    attributes = {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()}
    message_attributes = {
        str(name): {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    body = str(message.get("Body", ""))
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(
    result: InvokeResult, message_ids: Sequence[str], report_item_failures: bool
) -> set[str]:
    """The ids of a batch's items that failed with `result`: all of them when the function
    erred or answered an invalid `batchItemFailures`."""
    every = set(message_ids)
    if not result.ok:
        return every
    if not report_item_failures or result.payload is None:
        return set()
    if not isinstance(result.payload, dict):
        return every
    failures = result.payload.get("batchItemFailures")
    if not failures:
        return set()  # absent, null or empty: the whole batch succeeded
    if not isinstance(failures, list):
        return every
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in every:
            return every  # an invalid identifier fails the whole batch
        failed.add(identifier)
    return failed


class QueuePoller:
    """One SQS event source mapping."""

    def __init__(
        self,
        spec: QueueMappingSpec,
        *,
        sqs: Any,
        queue_url_for_arn: Callable[[str], str | None],
        invoke: Invoker,
        region: str,
        log: LogSink,
        stopping: threading.Event,
    ) -> None:
        self.spec = spec
        self._sqs = sqs
        self.queue_url: str = queue_url_for_arn(spec.queue_arn) or str(
            sqs.get_queue_url(QueueName=spec.queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        )
        self._invoke = invoke
        self._region = region
        self._log = log
        self._stopping = stopping
        self._lock = threading.Lock()
        self._busy = 0
        count = min(POLLERS, spec.maximum_concurrency or POLLERS)
        self._empty_at = [-1.0] * count
        self.threads = [
            threading.Thread(
                target=self._run,
                args=(index,),
                name=f"queue-{spec.function_logical_id}-{index}",
                daemon=True,
            )
            for index in range(count)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def idle_since(self, mark: float) -> bool:
        """Whether every poller found the queue empty after `mark` and none is busy."""
        with self._lock:
            return self._busy == 0 and all(at >= mark for at in self._empty_at)

    def _receive(self) -> list[Message]:
        spec = self.spec
        messages: list[Message] = []
        started = time.monotonic()
        while len(messages) < spec.batch_size:
            got = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, spec.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            waited = time.monotonic() - started
            if not got and (not messages or waited >= spec.batching_window_seconds):
                break
            if not got:
                self._stopping.wait(POLL_SECONDS)
        return messages

    def _run(self, index: int) -> None:
        idle_wait = POLL_SECONDS
        while not self._stopping.is_set():
            polled_at = time.monotonic()
            with self._lock:
                self._busy += 1
            try:
                handled = self._poll_once()
            except (ClientError, BotoCoreError) as error:
                self._log(f"[queue] {self.spec.source_name}: {error}; polling again")
                handled = 0
                self._stopping.wait(1.0)
            finally:
                with self._lock:
                    self._busy -= 1
            if handled:
                idle_wait = POLL_SECONDS
                continue
            with self._lock:
                self._empty_at[index] = polled_at
            # An empty queue is polled less and less often (Lambda long-polls): five idle
            # pollers would otherwise cost the local endpoint 100 requests a second.
            self._stopping.wait(idle_wait)
            idle_wait = min(idle_wait * 2, MAX_IDLE_SECONDS)

    def _poll_once(self) -> int:
        """Receive one batch and run it; answers how many messages were received."""
        spec = self.spec
        messages = self._receive()
        if not messages:
            return 0
        records = [lambda_sqs_record(m, spec.queue_arn, self._region) for m in messages]
        kept = [r for r in records if matches_any(spec.filters, _filterable(r))]
        dropped = [r for r in records if r not in kept]
        self._delete(dropped)  # filtered out: Lambda deletes them unread
        if not kept:
            return len(messages)
        result = self._invoke(spec.function_logical_id, {"Records": kept})
        failed = failed_ids(result, [r["messageId"] for r in kept], spec.report_batch_item_failures)
        self._delete([r for r in kept if r["messageId"] not in failed])
        self._log(  # the one line per batch of `make run`, as the stream pump prints
            f"[queue] {spec.source_name} -> {spec.function_logical_id}: "
            f"{len(kept)} messages {result.duration_ms:.0f}ms "
            + (
                "ok"
                if not failed
                else f"{len(failed)} failed; they return after their visibility timeout "
                "(then the dead-letter queue)"
            )
        )
        return len(messages)

    def _delete(self, records: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )


def _filterable(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a FilterCriteria pattern sees of an SQS record: `body` as JSON when it is."""
    event = dict(record)
    with contextlib.suppress(ValueError):
        event["body"] = json.loads(str(record["body"]))
    return event


def queue_pollers(
    mappings: Sequence[QueueMappingSpec],
    *,
    sqs_for: Callable[[str], Any],
    queue_url_for_arn: Callable[[str], str | None],
    invoke: Invoker,
    region: str,
    log: LogSink,
    stopping: threading.Event,
) -> list[QueuePoller]:
    """A poller per mapping; `sqs_for(function)` is the SQS client that function's role uses."""
    return [
        QueuePoller(
            spec,
            sqs=sqs_for(spec.function_logical_id),
            queue_url_for_arn=queue_url_for_arn,
            invoke=invoke,
            region=region,
            log=log,
            stopping=stopping,
        )
        for spec in mappings
    ]
