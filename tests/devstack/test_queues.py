"""The local stack runs the template's SQS mappings as Lambda does (item failures, the
dead-letter queue after maxReceiveCount) and a stream mapping's ParallelizationFactor as
parallel lanes, each partition key in order."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack import iam
from devstack.pump import lane_of
from devstack.queues import failed_ids
from devstack.runtime import InvokeResult
from devstack.stack import LocalStack
from tests.devstack.support import FIXTURES, LogLines, eventually, unique_stack_name

LOG = LogLines()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(
        FIXTURES / "queues.yaml", stack_name=unique_stack_name("queues"), log=LOG
    ) as running:
        yield running


def until(check: Callable[[], object], timeout: float) -> None:
    """Run `check` until it stops failing its assertions (or `timeout` runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def ledger(stack: LocalStack, scenario: str) -> list[dict[str, Any]]:
    items = stack.clients.dynamodb().query(
        TableName=stack.table_name("LedgerTable"),
        KeyConditionExpression="pk = :scenario",
        ExpressionAttributeValues={":scenario": {"S": scenario}},
    )["Items"]
    return [
        {
            "started": float(item["started"]["N"]),
            "ended": float(item["ended"]["N"]),
            "payload": json.loads(item["payload"]["S"]),
        }
        for item in items
    ]


def test_a_partition_key_keeps_its_lane(stack: LocalStack) -> None:
    def record(key: str, version: int) -> dict[str, Any]:
        return {"dynamodb": {"Keys": {"pk": {"S": key}, "version": {"N": str(version)}}}}

    for key in ("order-a", "order-b", "user-c"):
        lanes = {lane_of(record(key, v), "pk", 10) for v in range(1, 20)}
        assert len(lanes) == 1
    spread = {lane_of(record(f"order-{i}", 1), "pk", 10) for i in range(100)}
    assert len(spread) == 10
    assert lane_of(record("order-a", 1), "pk", 1) == 0


def test_lanes_run_batches_of_one_shard_at_once_each_key_in_order(stack: LocalStack) -> None:
    table = stack.table_name("LanesTable")
    dynamodb = stack.clients.dynamodb()
    keys = [f"stream-{i}" for i in range(8)]
    for version in range(1, 4):
        for key in keys:
            dynamodb.put_item(
                TableName=table, Item={"pk": {"S": key}, "version": {"N": str(version)}}
            )
    stack.pump.wait_idle(timeout=30)
    batches = sorted(ledger(stack, "lanes"), key=lambda b: b["started"])
    seen: dict[str, list[int]] = {}
    for batch in batches:
        for key, version in batch["payload"]:
            seen.setdefault(key, []).append(version)
    # every record once, each key's versions in order
    assert seen == {key: [1, 2, 3] for key in keys}
    # 24 records in batches of 2 take 12 batches of 0.3 s: one at a time would take 3.6 s;
    # with four lanes some batches overlap in time
    overlapping = sum(1 for a, b in itertools.pairwise(batches) if b["started"] < a["ended"])
    assert overlapping >= 1


def test_a_queue_mapping_deletes_what_succeeded_and_parks_what_failed_every_receive(
    stack: LocalStack,
) -> None:
    sqs = stack.clients.sqs()
    url = stack.queue_url("WorkQueue")
    # a cold start may outlast the 2 s visibility timeout (then SQS hands the batch out
    # again, as on AWS): warm the function first
    sqs.send_message(QueueUrl=url, MessageBody="warm-up")
    until(lambda: assert_delivered(stack, "warm-up"), timeout=15)
    for body in ("one", "two", "poison", "three"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def poison_parked() -> None:
        got = sqs.receive_message(
            QueueUrl=stack.queue_url("DeadLetters"), MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        assert [m["Body"] for m in got] == ["poison"]

    until(poison_parked, timeout=20)
    delivered = [
        m for batch in ledger(stack, "queue") for m in batch["payload"] if m["body"] != "warm-up"
    ]
    bodies = sorted(m["body"] for m in delivered)
    # the good ones once (deleted after their batch), the poison once per receive (2)
    assert bodies == ["one", "poison", "poison", "three", "two"]
    assert sorted(m["receives"] for m in delivered if m["body"] == "poison") == ["1", "2"]
    arn = stack.deployment.resource("WorkQueue").attributes["Arn"]
    assert {m["source"] for m in delivered} == {arn}
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_the_queue_is_polled_with_the_functions_role(stack: LocalStack) -> None:
    sqs = stack.clients.sqs()
    sqs.send_message(QueueUrl=stack.queue_url("WorkQueue"), MessageBody="as-role")
    until(lambda: assert_delivered(stack, "as-role"), timeout=10)
    name = stack.deployment.resource("WorkQueue").attributes["QueueName"]
    granted = {
        (function, action)
        for function, action, resource in iam.registry.granted
        if resource.endswith(f":{name}")
    }
    assert ("QueueFunction", "sqs:ReceiveMessage") in granted
    assert ("QueueFunction", "sqs:DeleteMessage") in granted


def test_each_queue_batch_prints_one_line(stack: LocalStack) -> None:
    sqs = stack.clients.sqs()
    sqs.send_message(QueueUrl=stack.queue_url("WorkQueue"), MessageBody="logged")
    until(lambda: assert_delivered(stack, "logged"), timeout=10)
    eventually(lambda: bool(LOG.containing("[queue] Work -> QueueFunction: ")))
    line = LOG.containing("[queue] Work -> QueueFunction: ")[-1]
    assert " messages " in line
    assert line.endswith("ok") or "failed; they return after their visibility timeout" in line


def assert_delivered(stack: LocalStack, body: str) -> None:
    bodies = [m["body"] for batch in ledger(stack, "queue") for m in batch["payload"]]
    assert body in bodies


@pytest.mark.parametrize(
    ("payload", "error", "failed"),
    [
        ({"batchItemFailures": []}, None, set()),
        (None, None, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, None, {"m2"}),
        ({"batchItemFailures": [{"itemIdentifier": "zz"}]}, None, {"m1", "m2"}),
        ({"batchItemFailures": "m2"}, None, {"m1", "m2"}),
        (None, {"errorType": "ValueError"}, {"m1", "m2"}),
    ],
)
def test_what_stays_on_the_queue_after_an_invocation(
    payload: Any, error: Any, failed: set[str]
) -> None:
    result = InvokeResult("r", payload=payload, error=error)
    assert failed_ids(result, ["m1", "m2"], report_item_failures=True) == failed


def test_item_failures_are_ignored_unless_reported() -> None:
    result = InvokeResult("r", payload={"batchItemFailures": [{"itemIdentifier": "m1"}]})
    assert failed_ids(result, ["m1"], report_item_failures=False) == set()
