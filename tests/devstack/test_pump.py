"""The stream pump against moto's DynamoDB Streams, with toy handlers writing a ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.pump import BatchFailure, batch_failure, split_expired
from devstack.runtime import InvokeResult
from devstack.stack import LocalStack
from tests.devstack.support import FIXTURES, LogLines, eventually, unique_stack_name


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(
        FIXTURES / "pump.yaml", stack_name=unique_stack_name("pump"), log=LogLines()
    ) as running:
        yield running


def put(stack: LocalStack, table: str, key: str, **attributes: str) -> None:
    item = {"pk": {"S": key}, **{name: {"S": value} for name, value in attributes.items()}}
    stack.clients.dynamodb().put_item(TableName=stack.table_name(table), Item=item)


def deliveries(stack: LocalStack, scenario: str) -> list[list[dict[str, Any]]]:
    """Each invocation's records, in invocation order."""
    items = stack.clients.dynamodb().query(
        TableName=stack.table_name("LedgerTable"),
        KeyConditionExpression="pk = :scenario",
        ExpressionAttributeValues={":scenario": {"S": scenario}},
    )["Items"]
    return [json.loads(item["records"]["S"]) for item in items]


def keys(batches: list[list[dict[str, Any]]]) -> list[list[str]]:
    return [[record["dynamodb"]["Keys"]["pk"]["S"] for record in batch] for batch in batches]


def parked(stack: LocalStack, queue: str) -> list[dict[str, Any]]:
    messages = (
        stack.clients.sqs()
        .receive_message(QueueUrl=stack.queue_url(queue), MaxNumberOfMessages=10, WaitTimeSeconds=1)
        .get("Messages", [])
    )
    return [json.loads(message["Body"]) for message in messages]


def sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def test_in_order_filtered_batches_of_batch_size(stack: LocalStack) -> None:
    for key, kind in [
        ("k1", "event"),
        ("x1", "snapshot"),
        ("k2", "event"),
        ("k3", "event"),
        ("x2", "snapshot"),
        ("k4", "event"),
        ("u1", "urgent-now"),
        ("k5", "event"),
    ]:
        put(stack, "OrderedTable", key, kind=kind)
    put(stack, "OrderedTable", "k1", kind="event", changed="yes")  # a MODIFY: filtered out
    stack.pump.wait_idle(timeout=15)
    batches = deliveries(stack, "ordered")
    # BatchSize 2, two filters OR-ed, non-matching records never delivered, order kept
    assert keys(batches) == [["k1", "k2"], ["k3", "k4"], ["u1", "k5"]]


def test_records_look_like_lambdas(stack: LocalStack) -> None:
    put(stack, "OrderedTable", "shape", kind="event")
    stack.pump.wait_idle(timeout=15)
    (record,) = next(b for b in deliveries(stack, "ordered") if keys([b]) == [["shape"]])
    stream_arn = stack.clients.dynamodb().describe_table(
        TableName=stack.table_name("OrderedTable")
    )["Table"]["LatestStreamArn"]
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == stream_arn
    assert isinstance(record["eventID"], str)
    data = record["dynamodb"]
    assert isinstance(data["ApproximateCreationDateTime"], int)
    assert data["Keys"] == {"pk": {"S": "shape"}}
    assert data["NewImage"] == {"pk": {"S": "shape"}, "kind": {"S": "event"}}
    assert data["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(data["SizeBytes"], int)
    assert sequence(record).isdigit()


def test_partial_batch_failure_redelivers_from_the_failed_record(stack: LocalStack) -> None:
    put(stack, "PartialTable", "p1")
    put(stack, "PartialTable", "p2", poison="yes")
    put(stack, "PartialTable", "p3")
    stack.pump.wait_idle(timeout=15)
    batches = deliveries(stack, "partial")
    # p1 is checkpointed; [p2, p3] is retried MaximumRetryAttempts (2) times, then parked
    assert keys(batches) == [["p1", "p2", "p3"], ["p2", "p3"], ["p2", "p3"]]
    (message,) = parked(stack, "PartialFailures")
    first = batches[0]
    assert message["version"] == "1.0"
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["requestContext"]["functionArn"].endswith(
        ":function:" + stack.function_name("PartialFunction")
    )
    assert message["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    info = message["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == sequence(first[1])
    assert info["endSequenceNumber"] == sequence(first[2])
    assert info["batchSize"] == 2
    assert info["streamArn"] == first[0]["eventSourceARN"]
    assert info["shardId"].startswith("shardId-")
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    # and the mapping moved on
    put(stack, "PartialTable", "p4")
    stack.pump.wait_idle(timeout=15)
    assert keys(deliveries(stack, "partial"))[-1] == ["p4"]


def test_bisect_on_function_error_isolates_the_poison_record(stack: LocalStack) -> None:
    put(stack, "BisectTable", "b1")
    put(stack, "BisectTable", "b2")
    put(stack, "BisectTable", "b3", poison="yes")
    put(stack, "BisectTable", "b4")
    stack.pump.wait_idle(timeout=15)
    batches = deliveries(stack, "bisect")
    assert keys(batches) == [
        ["b1", "b2", "b3", "b4"],
        ["b1", "b2"],
        ["b3", "b4"],
        ["b3"],
        ["b3"],  # MaximumRetryAttempts: 1
        ["b4"],
    ]
    (message,) = parked(stack, "BisectFailures")
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence(batches[3][0])
    assert message["DDBStreamBatchInfo"]["endSequenceNumber"] == sequence(batches[3][0])


def record(sequence_number: str, created: int = 0) -> dict[str, Any]:
    return {"dynamodb": {"SequenceNumber": sequence_number, "ApproximateCreationDateTime": created}}


BATCH = [record("11"), record("12"), record("13")]


@pytest.mark.parametrize(
    ("payload", "error", "expected"),
    [
        (None, None, None),
        ({}, None, None),
        ({"batchItemFailures": []}, None, None),
        ({"batchItemFailures": None}, None, None),
        (
            {"batchItemFailures": [{"itemIdentifier": "13"}, {"itemIdentifier": "12"}]},
            None,
            BatchFailure(1, False),
        ),
        ({"batchItemFailures": [{"itemIdentifier": "11"}]}, None, BatchFailure(0, False)),
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, None, BatchFailure(0, False)),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None, BatchFailure(0, False)),
        ({"batchItemFailures": [{"id": "12"}]}, None, BatchFailure(0, False)),
        ({"batchItemFailures": "12"}, None, BatchFailure(0, False)),
        ("not an object", None, BatchFailure(0, False)),
        (None, {"errorType": "ValueError"}, BatchFailure(0, True)),
    ],
)
def test_a_partial_batch_response_names_the_failed_records_as_lambda_reads_it(
    payload: Any, error: dict[str, Any] | None, expected: BatchFailure | None
) -> None:
    result = InvokeResult("r", payload=payload, error=error)
    assert batch_failure(result, BATCH, report_item_failures=True) == expected


def test_item_failures_are_ignored_unless_reported() -> None:
    result = InvokeResult("r", payload={"batchItemFailures": [{"itemIdentifier": "12"}]})
    assert batch_failure(result, BATCH, report_item_failures=False) is None


def test_records_older_than_the_maximum_age_are_split_off() -> None:
    records = [record("1", created=100), record("2", created=150), record("3", created=200)]
    assert split_expired(records, 60, now=200.0) == (records[:1], records[1:])
    assert split_expired(records, -1, now=10_000.0) == ([], records)


def test_a_failed_transaction_leaves_no_record_and_the_stream_flowing(stack: LocalStack) -> None:
    """moto rolls a failed transaction back by swapping its tables for copies; the local
    stack keeps the stream's shard, without the records of the writes rolled back."""
    from botocore.exceptions import ClientError

    table = stack.table_name("OrderedTable")
    put(stack, "OrderedTable", "tx-before", kind="event")
    stack.pump.wait_idle(timeout=15)  # the pump now reads the shard with an iterator
    with pytest.raises(ClientError, match="TransactionCanceled"):
        stack.clients.dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "tx-phantom"}, "kind": {"S": "event"}},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "tx-before"}, "kind": {"S": "event"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    put(stack, "OrderedTable", "tx-after", kind="event")
    stack.pump.wait_idle(timeout=15)
    seen = [k for batch in keys(deliveries(stack, "ordered")) for k in batch if k.startswith("tx-")]
    assert seen == ["tx-before", "tx-after"]


def test_the_pump_reads_and_parks_with_each_functions_role(stack: LocalStack) -> None:
    from devstack import iam

    put(stack, "PartialTable", "role-check", poison="1")
    eventually(lambda: bool(parked(stack, "PartialFailures")), timeout=20)
    granted = {(function, action) for function, action, _ in iam.registry.granted}

    # SAM gives a DynamoDB-triggered function's role the stream reads and the destination's
    # SendMessage: the pump uses exactly that role, as Lambda's poller does
    assert ("PartialFunction", "dynamodb:GetRecords") in granted
    assert ("PartialFunction", "sqs:SendMessage") in granted


def test_the_pump_shows_each_functions_oldest_batch_in_flight_until_it_ends() -> None:
    """What a local rebuild's fence waits on (GET /_devstack/readers)."""
    import threading
    import time

    from devstack.pump import StreamPump

    entered, leave = threading.Event(), threading.Event()

    def invoke(function: str, event: Any) -> InvokeResult:
        entered.set()
        leave.wait(5)
        return InvokeResult("request-1")

    pump = StreamPump(
        [],
        streams=None,  # type: ignore[arg-type]
        invoke=invoke,
        destinations=None,  # type: ignore[arg-type]
        function_arns={},
        region="us-east-1",
        log=None,  # type: ignore[arg-type]
    )
    assert pump.in_flight() == {}
    before = time.time()
    batch = threading.Thread(target=pump.invoke, args=("ProjectorFunction", {"Records": []}))
    batch.start()
    assert entered.wait(5)
    started = pump.in_flight()["ProjectorFunction"]
    assert before <= started <= time.time()
    leave.set()
    batch.join(5)
    assert pump.in_flight() == {}
