"""Count DynamoDB requests and items through botocore's event hooks: exact, not timed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class StoreCost:
    """What one command asked of one table."""

    read_requests: int
    items_read: int
    write_requests: int
    items_written: int
    operations: str

    def cells(self) -> str:
        return (
            f"{self.read_requests} | {self.items_read} | {self.write_requests} | "
            f"{self.items_written} | {self.operations}"
        )


@dataclass
class RequestCounter:
    """Requests and items per (table, operation) since the last `reset`."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    items_read: Counter[tuple[str, str]] = field(default_factory=Counter)
    items_written: Counter[tuple[str, str]] = field(default_factory=Counter)

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def reset(self) -> None:
        self.requests.clear()
        self.items_read.clear()
        self.items_written.clear()

    def total(self, table: str, kind: str) -> int:
        source = {
            "requests": self.requests,
            "read": self.items_read,
            "written": self.items_written,
        }[kind]
        return sum(n for (t, _), n in source.items() if t == table)

    def count(self, table: str, operations: tuple[str, ...]) -> int:
        return sum(n for (t, op), n in self.requests.items() if t == table and op in operations)

    def cost(self, table: str) -> StoreCost:
        """Reads (Query, GetItem) and writes (PutItem, TransactWriteItems) since `reset`."""
        return StoreCost(
            read_requests=self.count(table, ("Query", "GetItem")),
            items_read=self.total(table, "read"),
            write_requests=self.count(
                table, ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
            ),
            items_written=self.total(table, "written"),
            operations=self.operations(table),
        )

    def operations(self, table: str) -> str:
        return ", ".join(f"{op} x{n}" for (t, op), n in sorted(self.requests.items()) if t == table)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((_, body),) = entry.items()
                self.items_written[(body["TableName"], operation)] += 1
            tables = {next(iter(e.values()))["TableName"] for e in params["TransactItems"]}
            for table in tables:
                self.requests[(table, operation)] += 1
            return
        if operation in ("BatchGetItem", "BatchWriteItem"):
            for table, requests in params["RequestItems"].items():
                self.requests[(table, operation)] += 1
                if operation == "BatchWriteItem":
                    self.items_written[(table, operation)] += len(requests)
            return
        table = params.get("TableName", "?")
        self.requests[(table, operation)] += 1
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.items_written[(table, operation)] += 1
        self._last = (table, operation)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            table = getattr(self, "_last", ("?", ""))[0]
            self.items_read[(table, model.name)] += len(parsed.get("Items", []))
        elif model.name == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                self.items_read[(table, model.name)] += len(items)
        elif model.name == "GetItem":
            table = getattr(self, "_last", ("?", ""))[0]
            self.items_read[(table, model.name)] += 1 if parsed.get("Item") else 0
