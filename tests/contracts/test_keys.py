"""The kit's data-key contract, run on the in-memory fake and on DynamoDB with KMS (moto),
once with every ack lost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from event_sourcing.dynamodb.keys import DynamoDBErasureLog, DynamoDBKeyStore
from event_sourcing.personal import ErasureLog, KeyCache, KeyStore
from event_sourcing.testing.keys_contract import ErasureLogContract, KeyStoreContract
from event_sourcing.testing.lost_ack import LOSING, client_for
from event_sourcing.testing.memory import InMemoryErasureLog, InMemoryKeyStore

TABLE = "test-keys"


class TestKeyStore(KeyStoreContract):
    @pytest.fixture(params=["memory", "dynamodb", LOSING])
    def keys(self, request: pytest.FixtureRequest) -> Iterator[KeyStore]:
        if request.param == "memory":
            yield InMemoryKeyStore()
            return
        with dynamodb_keys(request.param) as keys:
            yield keys


class TestErasureLog(ErasureLogContract):
    @pytest.fixture(params=["memory", "dynamodb", LOSING])
    def log(self, request: pytest.FixtureRequest) -> Iterator[ErasureLog]:
        if request.param == "memory":
            yield InMemoryErasureLog()
            return
        with dynamodb_keys(request.param) as keys:
            client = keys._dynamodb
            client.create_table(
                TableName=LOG,
                KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "subject", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            yield DynamoDBErasureLog(client, LOG)

    @pytest.fixture
    def keys(self) -> KeyStore:
        return InMemoryKeyStore()


LOG = "test-erasures"


@contextmanager
def dynamodb_keys(param: str, ttl_seconds: float = 60.0) -> Iterator[DynamoDBKeyStore]:
    import boto3

    from tests.support.aws import mock_aws

    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "subject", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        kms = boto3.client("kms", region_name="us-east-1")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        yield DynamoDBKeyStore(
            client_for(param, client), lambda: kms, TABLE, key_id, KeyCache(ttl_seconds=ttl_seconds)
        )


def test_the_table_holds_only_the_kms_wrapped_key() -> None:
    with dynamodb_keys("dynamodb") as keys:
        key = keys.create("user-1")
        client = keys._dynamodb
        item = client.get_item(TableName=TABLE, Key={"subject": {"S": "user-1"}})["Item"]
        assert key not in bytes(item["wrapped"]["B"])


def test_another_container_sees_an_erasure_once_its_cache_expires() -> None:
    with dynamodb_keys("dynamodb", ttl_seconds=0) as keys:
        now = [0.0]
        other = DynamoDBKeyStore(
            keys._dynamodb, lambda: keys._kms, TABLE, keys._kms_key_id, KeyCache(60, lambda: now[0])
        )
        key = keys.create("user-1")
        assert other.get("user-1") == key
        keys.destroy("user-1")
        assert other.get("user-1") == key  # cached: at most the TTL
        now[0] = 61
        assert other.get("user-1") is None


def test_a_cached_key_costs_no_kms_call() -> None:
    with dynamodb_keys("dynamodb") as keys:
        calls: list[str] = []
        kms: Any = keys._kms
        kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.append(model.name))
        keys.create("user-1")
        for _ in range(10):
            keys.get("user-1")
        assert calls == ["GenerateDataKey"]
