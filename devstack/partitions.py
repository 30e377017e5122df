"""Hot keys before AWS sees them: read and write units per partition key of every table and
index, counted inside the embedded DynamoDB endpoint, where every function's request passes.

Units are computed from the sizes of the items each request read or wrote, as DynamoDB bills
them on demand (moto's ConsumedCapacity is a constant and is not used):

- a write costs 1 unit per started KB of the larger of the item before and after (PutItem,
  UpdateItem), of the item removed (DeleteItem), or of the item checked (ConditionCheck); at
  least 1, also when its condition fails;
- each secondary index whose entry the write adds, changes or removes costs 1 unit per
  started KB of that entry (its projected attributes) on the index's partition; a write that
  moves the entry to another index key costs a delete and a put;
- a read costs 1 unit per started 4 KB: per item for GetItem and BatchGetItem, of the sum of
  every item a Query evaluated (before its filter and projection, as DynamoDB reads them);
  half that when eventually consistent; at least one (half) unit, also for a missing item;
- TransactWriteItems and TransactGetItems cost twice that on the table (each item on its own
  partition); index writes are counted once.

The ledger keeps per-second buckets of the last minute (`hottest`: what
`eventshop-admin partitions --local` and the console show) and running totals per caller
(`take`: what `make bench` reads). The endpoint serves the minute at GET /_devstack/partitions
(`serve`): every process that reaches the endpoint (the CLI from .devstack/<stack>.json, the
console function from its AWS_ENDPOINT_URL) reads the counts of the process that has them.

Internal API relied on (moto 5.2, pinned): `DynamoHandler.call_action` (one request, its
`params`, `dynamodb_backend`; through devstack.moto_fixes.around_dynamodb), `Table.query`'s
arguments, `Table.get_item`, `Item.to_json`,
and werkzeug's `BaseWSGIServer.app` of `ThreadedMotoServer._server`.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import inspect
import itertools
import json
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

WINDOW_SECONDS = 60
PATH = "/_devstack/partitions"
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
SCAN = "(scan)"
"""The partition a Scan is counted on: it reads every partition of its table."""


# ------------------------------------------------------------------ sizes and units
def attribute_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON ({"S": "x"}), as DynamoDB sizes it."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode("utf-8"))
    if kind == "N":
        return _number_size(str(data))
    if kind == "B":
        return len(_binary(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode("utf-8")) for s in data)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(len(_binary(b)) for b in data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attribute_size(v) for k, v in data.items())
    raise ValueError(f"not a DynamoDB attribute value: {value!r}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Bytes of an item in DynamoDB JSON: each attribute's name and value (0 for none)."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + attribute_size(v) for name, v in item.items())


def _number_size(text: str) -> int:
    """About one byte per two significant digits, plus one."""
    try:
        digits = Decimal(text).normalize().as_tuple().digits
    except InvalidOperation:
        digits = tuple(int(c) for c in text if c.isdigit())
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def _binary(data: Any) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return base64.b64decode(str(data))


def write_units(size: int, *, transactional: bool = False) -> float:
    """Write units for one item of `size` bytes: 1 per started KB, at least 1; x2 in a
    transaction."""
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return float(units * (2 if transactional else 1))


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read units for `size` bytes read at once (an item, or all a Query evaluated): 1 per
    started 4 KB, at least 1; half when eventually consistent; x2 in a transaction."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES)) * (2 if transactional else 1)
    return units if consistent or transactional else units / 2


# ------------------------------------------------------------------ the ledger
@dataclass(frozen=True)
class Access:
    """What one request cost one partition of one table or index."""

    table: str
    key: str
    index: str = ""
    read_units: float = 0.0
    write_units: float = 0.0
    reads: int = 0
    """Items read (a Query's evaluated items; a GetItem's one, found or not)."""
    writes: int = 0
    """Items written, deleted or condition-checked (index entries on the index)."""
    caller: str = ""
    """The function that asked (its logical id), or '' for the stack or a test."""
    operation: str = ""
    bytes_read: int = 0
    bytes_written: int = 0
    request: int = 0
    """Which request of the process it was part of (a transaction's items share one)."""


@dataclass(frozen=True)
class PartitionLoad:
    """One partition's units over a window: totals, per second on average, busiest second."""

    table: str
    index: str
    key: str
    read_units: float
    write_units: float
    reads: int
    writes: int
    seconds: int
    peak_read_units: float
    peak_write_units: float

    @property
    def read_units_per_second(self) -> float:
        return self.read_units / self.seconds

    @property
    def write_units_per_second(self) -> float:
        return self.write_units / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "read_units_per_second": self.read_units_per_second,
            "write_units_per_second": self.write_units_per_second,
        }


@dataclass
class _Sums:
    read_units: float = 0.0
    write_units: float = 0.0
    reads: int = 0
    writes: int = 0

    def add(self, access: Access | _Sums) -> None:
        self.read_units += access.read_units
        self.write_units += access.write_units
        self.reads += access.reads
        self.writes += access.writes


Place = tuple[str, str, str]
"""(table, index, partition key)"""


@dataclass
class Ledger:
    """Units per partition: per second over the last `window` seconds (what a long `make run`
    keeps: bounded), and, once `keep` was called, every access until `take`. Thread-safe."""

    window: int = WINDOW_SECONDS
    clock: Callable[[], float] = time.time
    _seconds: dict[int, dict[Place, _Sums]] = field(default_factory=dict)
    _totals: list[Access] = field(default_factory=list)
    uncounted: int = 0
    last_miss: str = ""
    keeping: bool = False
    """Whether every access is kept for `take` (the bench): off, only the minute is kept."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, accesses: Iterable[Access]) -> None:
        second = int(self.clock())
        with self._lock:
            bucket = self._seconds.setdefault(second, defaultdict(_Sums))
            for access in accesses:
                bucket[(access.table, access.index, access.key)].add(access)
                if self.keeping:
                    self._totals.append(access)
            for old in [s for s in self._seconds if s <= second - self.window]:
                del self._seconds[old]

    def hottest(self, seconds: int | None = None, top: int = 10) -> list[PartitionLoad]:
        """The `top` partitions of each table and index by units over the last `seconds`
        (at most the window), hottest first within each."""
        span = max(1, min(seconds or self.window, self.window))
        now = int(self.clock())
        sums: dict[Place, _Sums] = defaultdict(_Sums)
        peaks: dict[Place, list[float]] = defaultdict(lambda: [0.0, 0.0])
        with self._lock:
            for second, bucket in self._seconds.items():
                if second <= now - span:
                    continue
                for place, part in bucket.items():
                    sums[place].add(part)
                    peak = peaks[place]
                    peak[0] = max(peak[0], part.read_units)
                    peak[1] = max(peak[1], part.write_units)
        loads = [
            PartitionLoad(
                table,
                index,
                key,
                round(s.read_units, 1),
                round(s.write_units, 1),
                s.reads,
                s.writes,
                span,
                round(peaks[(table, index, key)][0], 1),
                round(peaks[(table, index, key)][1], 1),
            )
            for (table, index, key), s in sums.items()
        ]
        loads.sort(key=lambda p: (p.table, p.index, -_heat(p), p.key))
        kept: list[PartitionLoad] = []
        for _, loads_of_one in itertools.groupby(loads, key=lambda p: (p.table, p.index)):
            kept += itertools.islice(loads_of_one, top)
        return kept

    def missed(self, why: str) -> None:
        """A request that could not be counted (`report` shows how many, and the last why)."""
        with self._lock:
            self.uncounted += 1
            self.last_miss = why

    def keep(self, keeping: bool = True) -> None:
        """Keep every access from now on for `take` (or stop, and forget them)."""
        with self._lock:
            self.keeping = keeping
            self._totals = []

    def take(self) -> list[Access]:
        """Every access kept since the last `take` (the bench's counts), and forget them."""
        with self._lock:
            taken, self._totals = self._totals, []
        return taken

    def clear(self) -> None:
        with self._lock:
            self._seconds.clear()
            self._totals.clear()


def _heat(load: PartitionLoad) -> float:
    """How close a partition is to its limit: the larger share of 3,000 RCU or 1,000 WCU."""
    return max(load.read_units / 3000, load.write_units / 1000)


ledger = Ledger()
"""The process's ledger: the embedded endpoint's requests land here."""


# ------------------------------------------------------------------ what a request cost
@dataclass
class _Table:
    name: str
    hash_key: str
    range_key: str | None
    indexes: list[Any]
    """moto's SecondaryIndex objects (name, schema, project)."""
    model: Any

    @classmethod
    def of(cls, backend: Any, name: str | None) -> _Table | None:
        table = backend.tables.get(name) if name else None
        if table is None or name is None:
            return None
        indexes = list(table.indexes) + list(table.global_indexes)
        return cls(name, table.hash_key_attr, table.range_key_attr, indexes, table)

    def item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored item at `key` (DynamoDB JSON), or None."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        if self.hash_key not in key or (self.range_key and self.range_key not in key):
            return None
        try:
            found = self.model.get_item(
                DynamoType(key[self.hash_key]),
                DynamoType(key[self.range_key]) if self.range_key else None,
            )
        except Exception:  # moto's validation errors: the request fails, costs nothing here
            return None
        return None if found is None else dict(found.to_json()["Attributes"])

    def key_of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        names = [self.hash_key, *([self.range_key] if self.range_key else [])]
        return {n: item[n] for n in names if n in item}

    def index_entries(
        self, item: Mapping[str, Any] | None
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """Each index's entry of `item`: its partition key and projected attributes."""
        entries: dict[str, tuple[str, dict[str, Any]]] = {}
        if not item:
            return entries
        for index in self.indexes:
            keys = [k["AttributeName"] for k in index.schema]
            if not all(k in item for k in keys):
                continue  # a sparse index: this item is not in it
            projection = index.projection or {}
            kind = projection.get("ProjectionType", "ALL")
            if kind == "ALL":
                projected = dict(item)
            else:
                names = {*keys, *self.key_of(item)}
                if kind == "INCLUDE":
                    names |= set(projection.get("NonKeyAttributes", []))
                projected = {n: v for n, v in item.items() if n in names}
            hash_name = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
            entries[index.name] = (_key_text(item[hash_name]), projected)
        return entries


def _key_text(value: Mapping[str, Any]) -> str:
    ((kind, data),) = value.items()
    if kind == "B":
        return base64.b64encode(_binary(data)).decode("ascii")
    return str(data)


@dataclass
class _Write:
    table: _Table
    key: dict[str, Any]
    kind: str
    """Put, Update, Delete or ConditionCheck"""
    before: dict[str, Any] | None


def _writes_of(action: str, params: Mapping[str, Any], backend: Any) -> list[_Write]:
    requests: list[tuple[str, str | None, Mapping[str, Any]]] = []
    if action in ("PutItem", "UpdateItem", "DeleteItem"):
        requests.append((action[:-4], params.get("TableName"), params))
    elif action == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            ((kind, body),) = entry.items()
            requests.append((kind, body.get("TableName"), body))
    elif action == "BatchWriteItem":
        for name, entries in (params.get("RequestItems") or {}).items():
            for entry in entries:
                ((kind, body),) = entry.items()
                requests.append(("Put" if kind == "PutRequest" else "Delete", name, body))
    writes = []
    for kind, name, body in requests:
        table = _Table.of(backend, name)
        if table is None:
            continue
        key = table.key_of(body.get("Item") or body.get("Key") or {})
        writes.append(_Write(table, key, kind, table.item(key)))
    return writes


def _write_costs(
    writes: list[_Write], transactional: bool, caller: str, operation: str
) -> Iterator[Access]:
    for write in writes:
        table = write.table
        after = write.before if write.kind == "ConditionCheck" else table.item(write.key)
        size = max(item_size(write.before), item_size(after))
        yield Access(
            table.name,
            _key_text(write.key[table.hash_key]),
            write_units=write_units(size, transactional=transactional),
            writes=1,
            caller=caller,
            operation=operation,
            bytes_written=size,
        )
        if after == write.before:
            continue  # nothing changed (a check, a failed condition): no index is written
        old, new = table.index_entries(write.before), table.index_entries(after)
        for index in sorted({*old, *new}):
            was, now = old.get(index), new.get(index)
            if was == now:
                continue
            changes = [entry for entry in (was, now) if entry is not None]
            if was is not None and now is not None and was[0] == now[0]:
                changes = [now]  # the entry changes in place; moved, it is a delete and a put
            for partition, entry in changes:
                entry_size = item_size(entry)
                yield Access(
                    table.name,
                    partition,
                    index=index,
                    write_units=write_units(entry_size),
                    writes=1,
                    caller=caller,
                    operation=operation,
                    bytes_written=entry_size,
                )


def _get_costs(
    action: str, params: Mapping[str, Any], backend: Any, caller: str
) -> Iterator[Access]:
    gets: list[tuple[str | None, Mapping[str, Any], bool, bool]] = []
    if action == "GetItem":
        consistent = bool(params.get("ConsistentRead"))
        gets.append((params.get("TableName"), params.get("Key") or {}, consistent, False))
    elif action == "BatchGetItem":
        for name, wanted in (params.get("RequestItems") or {}).items():
            consistent = bool(wanted.get("ConsistentRead"))
            gets += [(name, key, consistent, False) for key in wanted.get("Keys", [])]
    elif action == "TransactGetItems":
        for entry in params.get("TransactItems", []):
            body = entry.get("Get") or {}
            gets.append((body.get("TableName"), body.get("Key") or {}, True, True))
    for name, key, consistent, transactional in gets:
        table = _Table.of(backend, name)
        if table is None or table.hash_key not in key:
            continue
        size = item_size(table.item(key))
        yield Access(
            table.name,
            _key_text(key[table.hash_key]),
            read_units=read_units(size, consistent=consistent, transactional=transactional),
            reads=1,
            caller=caller,
            operation=action,
            bytes_read=size,
        )


_requests = itertools.count(1)
_current = threading.local()
"""The query a request is making, seen from inside moto's Table.query (one per thread)."""


def _evaluated_query(query: Any) -> Any:
    """moto's Table.query, noting what the Query evaluated: the items of its key condition,
    before its filter and projection (what DynamoDB reads and bills)."""
    signature = inspect.signature(query)  # moto's own, through functools.wraps

    @functools.wraps(query)
    def counted(*args: Any, **kwargs: Any) -> Any:
        noted: list[Any] | None = getattr(_current, "queries", None)
        if noted is None:
            return query(*args, **kwargs)
        arguments = signature.bind(*args, **kwargs).arguments
        index_name = arguments.get("index_name") or ""
        key = arguments.get("hash_key")
        if index_name:
            conditions = dict(arguments.get("hash_key_conditions") or [])
            key = next(iter(conditions.values()), key)
        plain = signature.bind(*args, **kwargs)
        plain.arguments["filter_expression"] = None
        plain.arguments["projection_expressions"] = None
        read, _, _ = query(*plain.args, **plain.kwargs)
        noted.append(
            (
                index_name,
                "" if key is None else _key_text(key.to_json()),
                sum(item_size(item.to_json()["Attributes"]) for item in read),
                len(read),
            )
        )
        return query(*args, **kwargs)

    return counted


def _query_costs(
    params: Mapping[str, Any], noted: list[Any], caller: str, action: str
) -> Iterator[Access]:
    name = str(params.get("TableName") or "")
    consistent = bool(params.get("ConsistentRead"))
    for index, key, size, count in noted:
        yield Access(
            name,
            key,
            index=index,
            read_units=read_units(size, consistent=consistent),
            reads=count,
            caller=caller,
            operation=action,
            bytes_read=size,
        )


def _scan_costs(params: Mapping[str, Any], body: Any, caller: str) -> Iterator[Access]:
    """A Scan's returned items (projected, filtered: it under-counts what it read)."""
    try:
        answer = json.loads(body)
    except (TypeError, ValueError):
        return
    items = answer.get("Items") or []
    size = sum(item_size(i) for i in items)
    yield Access(
        str(params.get("TableName") or ""),
        SCAN,
        index=str(params.get("IndexName") or ""),
        read_units=read_units(size, consistent=bool(params.get("ConsistentRead"))),
        reads=len(items),
        caller=caller,
        operation="Scan",
        bytes_read=size,
    )


def _caller(handler: Any) -> str:
    from devstack import iam

    principal = iam.registry.caller(iam.access_key_from(handler.headers))
    return principal.function if principal is not None else ""


def measured(handler: Any, call: Callable[[Any], Any]) -> Any:
    """Run one DynamoDB request (`call(handler)`) and record what it cost in the process's
    ledger. Holds devstack's request lock, so what it reads before and after is this
    request's doing alone."""
    from devstack.moto_fixes import serialized_requests

    action = handler._get_action()
    params: Mapping[str, Any] = getattr(handler, "params", None) or {}
    with serialized_requests:
        try:
            backend = handler.dynamodb_backend
            caller = _caller(handler)
            writes = _writes_of(action, params, backend)
        except Exception:  # never let counting break a request
            return call(handler)
        _current.queries = [] if action == "Query" else None
        try:
            answer = call(handler)
        finally:
            noted = _current.queries or []
            _current.queries = None
        try:
            accesses = list(_write_costs(writes, action == "TransactWriteItems", caller, action))
            accesses += _get_costs(action, params, backend, caller)
            accesses += _query_costs(params, noted, caller, action)
            if action == "Scan":
                accesses += _scan_costs(params, answer[2] if len(answer) > 2 else None, caller)
        except Exception as error:  # counting never fails a request: it says it missed one
            ledger.missed(f"{action}: {type(error).__name__}: {error}")
            return answer
        number = next(_requests)
        ledger.record(dataclasses.replace(a, request=number) for a in accesses)
        return answer


# ------------------------------------------------------------------ hooks
@functools.cache
def install() -> None:
    """Count every request of the process's moto DynamoDB (idempotent): the embedded
    endpoint and mock_aws alike."""
    from moto.dynamodb.models.table import Table

    from devstack.moto_fixes import around_dynamodb

    Table.query = _evaluated_query(Table.query)  # type: ignore[method-assign]
    around_dynamodb(measured)


def report(seconds: int | None = None, top: int = 10) -> dict[str, Any]:
    """The hottest partitions of the last `seconds`, as GET /_devstack/partitions answers."""
    loads = ledger.hottest(seconds, top)
    return {
        "window_seconds": max(1, min(seconds or ledger.window, ledger.window)),
        "limits": {"read_units_per_second": 3000, "write_units_per_second": 1000},
        "partitions": [load.as_dict() for load in loads],
        "uncounted_requests": ledger.uncounted,
        "last_uncounted": ledger.last_miss,
    }


def answer(query: Mapping[str, list[str]]) -> dict[str, Any]:
    """GET /_devstack/partitions: the hottest partitions, `?seconds=N&top=N`."""
    try:
        seconds = int(query.get("seconds", ["60"])[0])
        top = int(query.get("top", ["10"])[0])
    except ValueError:
        seconds, top = WINDOW_SECONDS, 10
    return report(seconds, top)


__all__ = [
    "Access",
    "Ledger",
    "PartitionLoad",
    "answer",
    "attribute_size",
    "install",
    "item_size",
    "ledger",
    "measured",
    "read_units",
    "report",
    "write_units",
]
