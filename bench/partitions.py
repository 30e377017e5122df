"""Count the writes and condition checks that land on each partition of every table and
index, through botocore's event hooks: exact, not timed.

One partition (one partition key value of a table or of an index) takes at most 1,000
write units/s: the partition most written per order is what bounds the shop's order rate,
whatever capacity is bought. A write is counted on its item's partition of the table and,
for a Put (and an Update that SETs an index's key) carrying an index's partition key, on
that index's partition too; a ConditionCheck is counted on its item's partition (it costs
write units there). Not counted: the index entry a Delete or an Update removes (the request
does not say which; the item's own partition is counted), and stream reads."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "-"
"""The index name of a table's own partitions."""


@dataclass(frozen=True, order=True)
class Partition:
    table: str
    index: str
    """`TABLE` for the table itself, else the index's name."""
    key: str
    """The partition key's value."""

    def __str__(self) -> str:
        where = self.table if self.index == TABLE else f"{self.table}/{self.index}"
        return f"{where}: {self.key}"


@dataclass(frozen=True)
class Keys:
    """A table's partition key attribute and each index's."""

    partition: str
    indexes: Mapping[str, str] = field(default_factory=dict)


@dataclass
class PartitionCounter:
    """Writes and condition checks per partition since the last `reset`."""

    keys: Mapping[str, Keys]
    writes: Counter[Partition] = field(default_factory=Counter)
    checks: Counter[Partition] = field(default_factory=Counter)

    @classmethod
    def of(cls, client: DynamoDBClient) -> PartitionCounter:
        """A counter that knows every table `client` sees (DescribeTable), attached to it."""
        keys = {}
        for table in client.list_tables()["TableNames"]:
            described = client.describe_table(TableName=table)["Table"]
            indexes = {
                index["IndexName"]: _hash_key(index["KeySchema"])
                for index in [
                    *described.get("GlobalSecondaryIndexes", []),
                    *described.get("LocalSecondaryIndexes", []),
                ]
            }
            keys[table] = Keys(_hash_key(described["KeySchema"]), indexes)
        counter = cls(keys)
        counter.attach(client)
        return counter

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)

    def reset(self) -> None:
        self.writes.clear()
        self.checks.clear()

    def units(self) -> Counter[Partition]:
        """Writes and condition checks together: what each partition was asked to take."""
        return self.writes + self.checks

    def hottest(self, count: int = 5) -> list[tuple[Partition, int]]:
        return self.units().most_common(count)

    def most(self) -> int:
        """The requests on the most written partition (0 if none)."""
        top = self.hottest(1)
        return top[0][1] if top else 0

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation == "PutItem":
            self._put(params["TableName"], params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            self._keyed(params["TableName"], params["Key"], params, self.writes)
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        self._put(table, request["PutRequest"]["Item"])
                    else:
                        self._keyed(table, request["DeleteRequest"]["Key"], {}, self.writes)
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "Put":
                    self._put(body["TableName"], body["Item"])
                elif kind == "ConditionCheck":
                    self._keyed(body["TableName"], body["Key"], {}, self.checks)
                else:
                    self._keyed(body["TableName"], body["Key"], body, self.writes)

    def _put(self, table: str, item: Mapping[str, Any]) -> None:
        keys = self.keys.get(table)
        if keys is None:
            return
        self.writes[Partition(table, TABLE, _value(item[keys.partition]))] += 1
        for index, attribute in keys.indexes.items():
            if attribute in item:
                self.writes[Partition(table, index, _value(item[attribute]))] += 1

    def _keyed(
        self,
        table: str,
        key: Mapping[str, Any],
        request: Mapping[str, Any],
        counter: Counter[Partition],
    ) -> None:
        keys = self.keys.get(table)
        if keys is None:
            return
        counter[Partition(table, TABLE, _value(key[keys.partition]))] += 1
        for index, value in _set_values(request, keys.indexes).items():
            counter[Partition(table, index, value)] += 1


def _hash_key(schema: list[Any]) -> str:
    return str(next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH"))


def _value(attribute: Mapping[str, Any]) -> str:
    ((_, value),) = attribute.items()
    return str(value)


_ASSIGNMENT = re.compile(r"([#\w]+)\s*=\s*(:\w+)")


def _set_values(request: Mapping[str, Any], indexes: Mapping[str, str]) -> dict[str, str]:
    """The index partitions an UpdateItem's SET writes: `attr = :value` naming an index key."""
    expression = str(request.get("UpdateExpression", ""))
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    found = {}
    for name, placeholder in _ASSIGNMENT.findall(expression):
        attribute = names.get(name, name)
        for index, partition in indexes.items():
            if attribute == partition and placeholder in values:
                found[index] = _value(values[placeholder])
    return found
