"""LOCAL_FAULTS: what it accepts, and what a function's DynamoDB request meets under it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from devstack import faults, iam
from devstack.faults import Faults, FaultsError
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FUNCTION_KEY = "AKIALOCALFAULTSTEST1"
EVERYTHING = iam.Policy.from_documents(
    [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
)


def test_the_contract_example_reads_as_three_rates() -> None:
    parsed = Faults.parse("throttle=0.05,error=0.02,lostack=0.02")
    assert (parsed.throttle, parsed.error, parsed.lostack) == (0.05, 0.02, 0.02)
    assert parsed.active
    assert not Faults.parse("").active
    assert not Faults.parse(None).active


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("throttle", "name=rate pairs"),
        ("slow=0.1", "name=rate pairs"),
        ("error=lots", "is not a number"),
        ("error=1.5", "between 0 and 1"),
        ("throttle=0.6,error=0.6", "more than 1"),
    ],
)
def test_a_bad_setting_is_refused_with_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(FaultsError, match=says):
        Faults.parse(text)


def test_draws_follow_the_rates_and_a_seed_repeats_a_run() -> None:
    rates = Faults(throttle=0.1, error=0.1, lostack=0.1, seed=7)
    first, second = faults.Injector(rates), faults.Injector(rates)
    draws = [first.draw() for _ in range(3000)]

    assert draws == [second.draw() for _ in range(3000)]
    for kind in faults.KINDS:
        assert 200 < draws.count(kind) < 400
    assert first.injected == {kind: draws.count(kind) for kind in faults.KINDS}


@pytest.fixture
def function_client(dynamodb: DynamoDBClient) -> Iterator[DynamoDBClient]:
    """A client calling as a function of the stack (its own access key), without retries."""
    import boto3
    from botocore.config import Config

    iam.registry.register(FUNCTION_KEY, iam.Principal("Fn", "arn:aws:iam::1:role/r", EVERYTHING))
    faults.install()
    try:
        yield boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id=FUNCTION_KEY,
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
    finally:
        iam.registry.forget(FUNCTION_KEY)
        faults.configure(Faults())


def put(client: DynamoDBClient, pk: str) -> None:
    client.put_item(
        TableName=table_name("ThrottleTable"), Item={"pk": {"S": pk}, "count": {"N": "1"}}
    )


def stored(client: DynamoDBClient, pk: str) -> bool:
    got = client.get_item(TableName=table_name("ThrottleTable"), Key={"pk": {"S": pk}})
    return "Item" in got


@pytest.mark.parametrize(
    ("kind", "code", "applied"),
    [
        ("throttle", "ThrottlingException", False),
        ("error", "InternalServerError", False),
        ("lostack", "InternalServerError", True),
    ],
)
def test_a_functions_request_meets_the_fault_and_is_applied_only_when_its_ack_is_lost(
    function_client: DynamoDBClient, dynamodb: DynamoDBClient, kind: str, code: str, applied: bool
) -> None:
    from botocore.exceptions import ClientError

    faults.configure(Faults(**{kind: 1.0}))  # type: ignore[arg-type]
    with pytest.raises(ClientError) as failed:
        put(function_client, "k1")

    assert failed.value.response["Error"]["Code"] == code
    faults.configure(Faults())
    assert stored(dynamodb, "k1") is applied


def test_the_stacks_own_requests_are_never_touched(
    function_client: DynamoDBClient, dynamodb: DynamoDBClient
) -> None:
    faults.configure(Faults(error=1.0))
    put(dynamodb, "k1")
    assert stored(dynamodb, "k1")
