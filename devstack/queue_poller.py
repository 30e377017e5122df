"""SQS event source mappings: receive, filter, invoke, delete what succeeded."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.filters import matches_any
from devstack.logs import LogSink
from devstack.runtime import Invoker, InvokeResult
from devstack.sam import QueueMappingSpec

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

POLL_SECONDS = 0.05


def lambda_message(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """A `ReceiveMessage` message as the element of a Lambda event's `Records`."""
    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        binary = value.get("BinaryValue")
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        attributes[name] = {k: v for k, v in attributes[name].items() if v is not None}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    # filters see a JSON body as an object, a plain body as a string
    try:
        return {**record, "body": json.loads(record["body"])}
    except ValueError:
        return dict(record)


def failed_message_ids(
    result: InvokeResult, records: Sequence[Mapping[str, Any]], report_item_failures: bool
) -> set[str]:
    """The messages to leave on the queue (all of them when the batch failed)."""
    every = {str(record["messageId"]) for record in records}
    if not result.ok:
        return every
    payload = result.payload
    if not report_item_failures or payload is None:
        return set()
    if not isinstance(payload, dict):
        return every
    failures = payload.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return every
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in every:
            return every  # an invalid identifier fails the whole batch
        failed.add(identifier)
    return failed


class _QueueReader:
    def __init__(self, poller: QueuePoller, spec: QueueMappingSpec, url: str) -> None:
        self._poller = poller
        self._spec = spec
        self._url = url
        self.thread = threading.Thread(
            target=self._run, name=f"sqs-{spec.function_logical_id}", daemon=True
        )

    def _receive(self, count: int) -> list[Mapping[str, Any]]:
        response = self._poller.sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(count, 10)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _delete(self, records: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self._poller.sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": str(record["receiptHandle"])}
                    for index, record in enumerate(chunk)
                ],
            )

    def _run(self) -> None:
        spec, stop = self._spec, self._poller.stopping
        while not stop.is_set():
            try:
                batch = self._gather()
                if not batch:
                    continue
                result = self._poller.invoke(spec.function_logical_id, {"Records": batch})
                failed = failed_message_ids(result, batch, spec.report_batch_item_failures)
                # failed messages stay: they come back after the visibility timeout
                self._delete([record for record in batch if record["messageId"] not in failed])
            except (ClientError, BotoCoreError) as error:
                self._poller.log(f"[sqs] {spec.function_logical_id}.{spec.source_name}: {error}")
                stop.wait(1.0)

    def _gather(self) -> list[dict[str, Any]]:
        spec, stop = self._spec, self._poller.stopping
        batch: list[dict[str, Any]] = []
        first = 0.0
        while not stop.is_set() and len(batch) < spec.batch_size:
            messages = self._receive(spec.batch_size - len(batch))
            dropped = []
            for message in messages:
                record = lambda_message(
                    message, queue_arn=spec.queue_arn, region=self._poller.region
                )
                if matches_any(spec.filters, _filter_view(record)):
                    first = first or time.monotonic()
                    batch.append(record)
                else:
                    dropped.append(record)  # Lambda deletes messages its filters drop
            if dropped:
                self._delete(dropped)
            if batch and time.monotonic() - first >= spec.batching_window_seconds:
                break
            if not messages:
                stop.wait(self._poller.poll_seconds)
        return batch


class QueuePoller:
    """Runs every SQS event source mapping of the template."""

    def __init__(
        self,
        mappings: Sequence[QueueMappingSpec],
        *,
        sqs: SQSClient,
        invoke: Invoker,
        queue_url_for_arn: Callable[[str], str | None],
        region: str,
        log: LogSink,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sqs = sqs
        self.invoke = invoke
        self.region = region
        self.log = log
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._readers = []
        for spec in mappings:
            url = queue_url_for_arn(spec.queue_arn)
            if url is None:
                name = spec.queue_arn.rsplit(":", 1)[-1]
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self._readers.append(_QueueReader(self, spec, url))

    def start(self) -> None:
        for reader in self._readers:
            reader.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for reader in self._readers:
            if reader.thread.is_alive():
                reader.thread.join(max(deadline - time.monotonic(), 0.0))
