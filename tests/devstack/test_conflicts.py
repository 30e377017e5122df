"""LOCAL_CONFLICTS: what it accepts, and what a function's DynamoDB write meets under it
when another transaction or write holds one of its items (as DynamoDB answers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from devstack import conflicts, iam
from devstack.conflicts import Conflicts, ConflictsError
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FUNCTION_KEY = "AKIALOCALCONFLICTS01"
EVERYTHING = iam.Policy.from_documents(
    [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
)
TABLE = table_name("ThrottleTable")


def key(pk: str) -> conflicts.ItemKey:
    """The emulator's name of a ThrottleTable item."""
    return TABLE, json.dumps({"pk": {"S": pk}}, sort_keys=True)


def test_on_by_default_off_for_debugging_and_drawn_at_a_rate_with_a_seed() -> None:
    assert Conflicts.parse(None) == Conflicts(overlap=True)
    assert Conflicts.parse("on").active
    assert not Conflicts.parse("off").active
    assert Conflicts.parse("rate=0.1,seed=7") == Conflicts(overlap=True, rate=0.1, seed=7)
    assert Conflicts.parse("hold=0.05").hold == 0.05


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sometimes", "rate=R"),
        ("rate=lots", "not a number"),
        ("rate=2", "between 0 and 1"),
        ("hold=-1", "negative"),
    ],
)
def test_a_bad_setting_is_refused_with_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(ConflictsError, match=says):
        Conflicts.parse(text)


def test_drawn_conflicts_follow_the_rate_and_a_seed_repeats_a_run() -> None:
    def run() -> list[bool]:
        emulator = conflicts.Emulator(Conflicts(overlap=False, rate=0.2, seed=3))
        drawn = []
        for n in range(500):
            with emulator.write("Fn", key(f"k{n}")) as busy:
                drawn.append(busy)
        return drawn

    first = run()
    assert first == run()
    assert 60 < first.count(True) < 140


@pytest.fixture
def emulator() -> Iterator[conflicts.Emulator]:
    iam.registry.register(FUNCTION_KEY, iam.Principal("Fn", "arn:aws:iam::1:role/r", EVERYTHING))
    conflicts.install()
    try:
        yield conflicts.configure(Conflicts())
    finally:
        iam.registry.forget(FUNCTION_KEY)
        conflicts.configure(Conflicts(overlap=False))


@pytest.fixture
def function_client(dynamodb: DynamoDBClient, emulator: conflicts.Emulator) -> DynamoDBClient:
    """A client calling as a function of the stack (its own access key), with botocore's
    standard retries: it retries neither answer of a conflict."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id=FUNCTION_KEY,
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def put(pk: str) -> Any:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, "count": {"N": "1"}}}}


def check(pk: str) -> Any:
    return {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": {"pk": {"S": pk}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def stored(client: DynamoDBClient, pk: str) -> bool:
    return "Item" in client.get_item(TableName=TABLE, Key={"pk": {"S": pk}})


@pytest.mark.parametrize("other", ["transaction", "write"])
def test_a_transaction_touching_a_held_item_is_cancelled_for_that_item_only(
    function_client: DynamoDBClient,
    dynamodb: DynamoDBClient,
    emulator: conflicts.Emulator,
    other: str,
) -> None:
    holding = (
        emulator.transaction("Other", [key("b")])
        if other == "transaction"
        else emulator.write("Other", key("b"))
    )
    with holding, pytest.raises(ClientError) as cancelled:
        function_client.transact_write_items(TransactItems=[put("a"), put("b"), put("c")])

    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in error["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict", "None"]
    assert not any(stored(dynamodb, pk) for pk in "abc")
    assert emulator.counted[("Fn", "cancelled")] == 1
    assert emulator.counted[("Fn", "transactions")] == 1  # not retried by botocore


def test_a_condition_check_conflicts_too(
    function_client: DynamoDBClient, emulator: conflicts.Emulator
) -> None:
    with emulator.transaction("Other", [key("b")]), pytest.raises(ClientError) as cancelled:
        function_client.transact_write_items(TransactItems=[put("a"), check("b")])
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict"]


def test_a_single_write_into_an_ongoing_transactions_item_answers_transaction_conflict(
    function_client: DynamoDBClient, dynamodb: DynamoDBClient, emulator: conflicts.Emulator
) -> None:
    with emulator.transaction("Other", [key("a")]), pytest.raises(ClientError) as refused:
        function_client.put_item(**put("a")["Put"])

    assert refused.value.response["Error"]["Code"] == "TransactionConflictException"
    assert not stored(dynamodb, "a")
    assert emulator.counted[("Fn", "writes")] == 1  # not retried by botocore


def test_single_writes_do_not_conflict_with_each_other_and_items_are_let_go_after(
    function_client: DynamoDBClient, dynamodb: DynamoDBClient, emulator: conflicts.Emulator
) -> None:
    with emulator.write("Other", key("a")):
        function_client.put_item(**put("a")["Put"])
    function_client.transact_write_items(TransactItems=[put("a"), put("b")])
    function_client.put_item(**put("b")["Put"])
    assert stored(dynamodb, "a")
    assert stored(dynamodb, "b")
    assert emulator.total("cancelled") == emulator.total("conflict") == 0


def test_drawn_conflicts_cancel_without_applying(
    function_client: DynamoDBClient, dynamodb: DynamoDBClient
) -> None:
    conflicts.configure(Conflicts(overlap=False, rate=1.0, seed=1))
    with pytest.raises(ClientError) as cancelled:
        function_client.transact_write_items(TransactItems=[put("a"), put("b")])
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert sorted(reasons) == ["None", "TransactionConflict"]
    assert not stored(dynamodb, "a")


def test_the_stacks_own_requests_and_a_stack_with_conflicts_off_are_never_touched(
    function_client: DynamoDBClient, dynamodb: DynamoDBClient, emulator: conflicts.Emulator
) -> None:
    with emulator.transaction("Other", [key("a")]):
        dynamodb.put_item(**put("a")["Put"])
        conflicts.configure(Conflicts(overlap=False))
        function_client.put_item(**put("a")["Put"])
