"""Read units from the items DynamoDB answers, as AWS bills them (moto's ConsumedCapacity is
a constant): 4 KB per unit, eventually consistent reads half a unit.

- Query: the sizes of the items answered, summed, rounded up to 4 KB (at least one unit);
- GetItem: the item's size rounded up to 4 KB (an item not found: one unit);
- BatchGetItem: each key as a GetItem.
An index Query is always eventually consistent. Item sizes follow AWS's rules: attribute
names and string values in UTF-8 bytes, a number about one byte per two significant digits
plus one, booleans and nulls one byte, lists and maps 3 bytes plus a byte per element."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

UNIT = 4096


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = str(Decimal(raw).normalize()).lstrip("-").replace(".", "").lstrip("0")
        return max(1, math.ceil(len(digits) / 2)) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in raw)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int, *, consistent: bool) -> float:
    whole = float(max(1, math.ceil(size / UNIT)))
    return whole if consistent else whole / 2


@dataclass
class ReadUnits:
    """Read units per operation since the last `reset`, computed from each answer."""

    spent: dict[str, float] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    _params: dict[str, Any] = field(default_factory=dict)

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def reset(self) -> None:
        self.spent.clear()
        self.requests.clear()

    def total(self) -> float:
        return float(sum(self.spent.values()))

    def operations(self) -> str:
        return ", ".join(f"{op} x{n}" for op, n in sorted(self.requests.items()))

    def _add(self, operation: str, spent: float) -> None:
        self.spent[operation] = self.spent.get(operation, 0.0) + spent

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._params = params

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        operation, params = model.name, self._params
        if operation == "Query":
            consistent = bool(params.get("ConsistentRead")) and "IndexName" not in params
            size = sum(item_size(i) for i in parsed.get("Items", []))
            self._add(operation, units(size, consistent=consistent))
        elif operation == "GetItem":
            item = parsed.get("Item")
            consistent = bool(params.get("ConsistentRead"))
            self._add(operation, units(item_size(item) if item else 0, consistent=consistent))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                consistent = bool(request.get("ConsistentRead"))
                found = parsed.get("Responses", {}).get(table, [])
                missing = len(request["Keys"]) - len(found)
                spent = sum(units(item_size(i), consistent=consistent) for i in found)
                self._add(operation, spent + missing * units(0, consistent=consistent))
        else:
            return
        self.requests[operation] += 1
