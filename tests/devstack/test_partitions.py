"""Units per partition as the embedded endpoint counts them (devstack.partitions): sizes as
DynamoDB computes them, on-demand units, and what each kind of request costs each partition
of a table and its indexes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from devstack import partitions
from devstack.partitions import Access, Ledger, item_size, read_units, write_units

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "hot"
KB = 1024


# ------------------------------------------------------------------ sizes and units
def test_an_items_size_is_its_names_and_values_as_dynamodb_counts_them() -> None:
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 + 1
    assert item_size({"n": {"N": "-0.00100"}}) == 1 + 2
    assert item_size({"b": {"B": b"\x00\x01\x02"}}) == 1 + 3
    assert item_size({"t": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"s": {"SS": ["a", "bc"]}}) == 1 + 3
    assert item_size({"é": {"S": "ü"}}) == 2 + 2  # UTF-8 bytes
    assert item_size(None) == 0


def test_a_write_costs_a_unit_per_started_kilobyte_and_twice_that_in_a_transaction() -> None:
    assert write_units(0) == 1  # a failed condition or a missing item still costs one
    assert write_units(KB) == 1
    assert write_units(KB + 1) == 2
    assert write_units(3 * KB, transactional=True) == 6


def test_a_read_costs_a_unit_per_started_4_kb_half_when_eventually_consistent() -> None:
    assert read_units(0, consistent=True) == 1
    assert read_units(4 * KB, consistent=True) == 1
    assert read_units(4 * KB + 1, consistent=True) == 2
    assert read_units(4 * KB + 1, consistent=False) == 1
    assert read_units(100, consistent=False) == 0.5
    assert read_units(100, consistent=True, transactional=True) == 2


# ------------------------------------------------------------------ the ledger
class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_ledger_keeps_a_minute_and_names_each_tables_hottest_partitions() -> None:
    clock = Clock()
    ledger = Ledger(clock=clock)
    ledger.keep()
    ledger.record([Access("t", "old", write_units=500)])
    clock.now += 61
    ledger.record([Access("t", "a", write_units=10), Access("t", "b", read_units=30)])
    clock.now += 1
    ledger.record([Access("t", "a", write_units=20), Access("t", "i", index="gsi", writes=1)])
    loads = ledger.hottest(top=1)
    assert [(p.table, p.index, p.key) for p in loads] == [("t", "", "a"), ("t", "gsi", "i")]
    hottest = loads[0]
    assert (hottest.write_units, hottest.peak_write_units) == (30, 20)
    assert hottest.write_units_per_second == 30 / 60
    assert [p.key for p in ledger.hottest(top=5)[:2]] == ["a", "b"]  # old is gone
    assert {a.key for a in ledger.take()} == {"old", "a", "b", "i"}
    assert ledger.take() == []


def test_a_ledger_nobody_takes_from_keeps_only_its_minute() -> None:
    clock = Clock()
    ledger = Ledger(clock=clock)
    for _ in range(100):
        clock.now += 1
        ledger.record([Access("t", "k", write_units=1)])
    assert ledger.take() == []
    assert len(ledger._seconds) == ledger.window


def test_heat_is_the_share_of_the_partitions_limit_reads_3000_writes_1000() -> None:
    ledger = Ledger(clock=Clock())
    ledger.record([Access("t", "reads", read_units=2_000), Access("t", "writes", write_units=700)])
    assert [p.key for p in ledger.hottest()] == ["writes", "reads"]


# ------------------------------------------------------------------ requests on moto
@pytest.fixture
def client() -> Iterator[DynamoDBClient]:
    import boto3

    from tests.support.aws import mock_aws

    partitions.install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "gpk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
        partitions.ledger.keep()
        yield dynamodb
        partitions.ledger.keep(False)


def item(pk: str, sk: str, size: int = 0, **more: str) -> dict[str, Any]:
    """An item of about `size` bytes (its `data` attribute fills it)."""
    attributes: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}}
    attributes.update({k: {"S": v} for k, v in more.items()})
    filler = max(0, size - item_size(attributes) - len("data"))
    attributes["data"] = {"S": "x" * filler}
    return attributes


def costs() -> list[tuple[str, str, float, float]]:
    return sorted((a.index, a.key, a.read_units, a.write_units) for a in partitions.ledger.take())


def test_a_put_costs_its_size_on_its_partition_and_an_entry_on_its_index(
    client: DynamoDBClient,
) -> None:
    client.put_item(TableName=TABLE, Item=item("p1", "a", 1500, gpk="g1"))
    assert costs() == [("", "p1", 0, 2), ("by-g", "g1", 0, 1)]
    client.put_item(TableName=TABLE, Item=item("p2", "a", 100))
    assert costs() == [("", "p2", 0, 1)]  # no gpk: not in the sparse index


def test_a_replacing_write_costs_the_larger_item_and_a_moved_entry_a_delete_and_a_put(
    client: DynamoDBClient,
) -> None:
    client.put_item(TableName=TABLE, Item=item("p", "a", 3000, gpk="g1"))
    partitions.ledger.take()
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "p"}, "sk": {"S": "a"}},
        UpdateExpression="SET gpk = :g, #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":g": {"S": "g2"}, ":d": {"S": "small"}},
    )
    assert costs() == [("", "p", 0, 3), ("by-g", "g1", 0, 1), ("by-g", "g2", 0, 1)]
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "a"}})
    assert costs() == [("", "p", 0, 1), ("by-g", "g2", 0, 1)]


def test_a_failed_condition_costs_a_write_and_touches_no_index(client: DynamoDBClient) -> None:
    client.put_item(TableName=TABLE, Item=item("p", "a", 100, gpk="g"))
    partitions.ledger.take()
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=TABLE,
            Item=item("p", "a", 100, gpk="other"),
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert costs() == [("", "p", 0, 1)]


def test_each_item_of_a_transaction_costs_twice_on_its_own_partition_checks_included(
    client: DynamoDBClient,
) -> None:
    client.put_item(TableName=TABLE, Item=item("pointer", "p", 100))
    partitions.ledger.take()
    client.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "pointer"}, "sk": {"S": "p"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Put": {"TableName": TABLE, "Item": item("v1", "a", 2000, gpk="g")}},
            {"Put": {"TableName": TABLE, "Item": item("v2", "a", 100)}},
        ]
    )
    assert costs() == [
        ("", "pointer", 0, 2),
        ("", "v1", 0, 4),
        ("", "v2", 0, 2),
        ("by-g", "g", 0, 1),
    ]


def test_a_query_costs_what_it_evaluated_whatever_it_filtered_or_projected(
    client: DynamoDBClient,
) -> None:
    for sk in "abc":
        client.put_item(TableName=TABLE, Item=item("p", sk, 2000, gpk="g"))
    partitions.ledger.take()
    query: Any = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":none": {"S": "none"}},
        "FilterExpression": "sk = :none",
        "ProjectionExpression": "sk",
    }
    assert client.query(**query)["Items"] == []
    assert costs() == [("", "p", 1.0, 0)]  # 6,000 bytes: 2 units, eventually consistent
    client.query(**query, ConsistentRead=True)
    assert costs() == [("", "p", 2.0, 0)]
    client.query(
        TableName=TABLE,
        IndexName="by-g",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    assert costs() == [("by-g", "g", 0.5, 0)]  # three small keys-only entries


def test_a_get_costs_the_items_size_and_a_missing_item_the_minimum(
    client: DynamoDBClient,
) -> None:
    client.put_item(TableName=TABLE, Item=item("p", "a", 5000))
    partitions.ledger.take()
    client.get_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "a"}}, ConsistentRead=True)
    client.get_item(TableName=TABLE, Key={"pk": {"S": "q"}, "sk": {"S": "a"}})
    client.batch_get_item(RequestItems={TABLE: {"Keys": [{"pk": {"S": "p"}, "sk": {"S": "a"}}]}})
    assert costs() == [("", "p", 1.0, 0), ("", "p", 2.0, 0), ("", "q", 0.5, 0)]


def test_every_access_names_its_operation_and_bytes(client: DynamoDBClient) -> None:
    client.put_item(TableName=TABLE, Item=item("p", "a", 700))
    (access,) = partitions.ledger.take()
    assert (access.table, access.operation, access.writes, access.bytes_written) == (
        TABLE,
        "PutItem",
        1,
        700,
    )
