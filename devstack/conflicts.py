"""`LOCAL_CONFLICTS`: DynamoDB's transaction conflicts, emulated on the embedded endpoint.

DynamoDB cancels a `TransactWriteItems` that touches (puts, updates, deletes or only
condition-checks) an item which another ongoing transaction or single write holds:
`TransactionCanceledException`, reason `TransactionConflict` for that item and `None` for
the others. A single write (PutItem, UpdateItem, DeleteItem) to an item inside an ongoing
transaction answers `TransactionConflictException`. moto serialises them instead, so
without this nothing local ever meets one. botocore retries neither (only
`TransactionInProgressException`): the kit maps both to its retryable `ConcurrencyError`.

Two ways a conflict arises here, for the functions' requests only (known by their access
key, devstack.iam; the stack's own requests are never touched):

- real overlap in time (always, unless `off`): each transaction holds its items while moto
  applies it and for `hold` seconds before (DynamoDB's two-phase commit keeps a
  transaction's items for tens of milliseconds; moto applies one request at a time in
  about one), each single write its item while applied; a request meeting a held item
  conflicts;
- drawn (`rate=0.1[,seed=7]`, for tests): a write request conflicts at that rate, without
  being applied, whatever else runs (a TransactWriteItems on one of its items drawn too).

`LOCAL_CONFLICTS` unset or `on`: overlap only, a transaction holding its items 25 ms
(the default of `make run` and the e2e tests); `off`: nothing; `rate=R[,seed=N]`: overlap
and drawn conflicts; `hold=S`: how long a transaction holds its items (seconds).

Internal API relied on (moto 5.2, pinned): `moto.dynamodb.responses.DynamoHandler.call_action`
(through devstack.moto_fixes.around_dynamodb) answers `(status, headers, body)` for one
request; `handler.dynamodb_backend.get_table(name)` has `hash_key_attr` and `range_key_attr`.
"""

from __future__ import annotations

import functools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devstack import iam, moto_fixes

SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
TRANSACTION = "TransactWriteItems"
_PREFIX = "com.amazonaws.dynamodb.v20120810#"

ItemKey = tuple[str, str]
"""(table, the item's key as canonical JSON)"""


class ConflictsError(RuntimeError):
    """LOCAL_CONFLICTS cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class Conflicts:
    """Whether to emulate conflicts (`overlap`), and a `rate` (0..1) of drawn ones."""

    overlap: bool = True
    rate: float = 0.0
    seed: int | None = None
    hold: float = 0.025

    @classmethod
    def parse(cls, text: str | None) -> Conflicts:
        text = (text or "").replace(" ", "").lower()
        if text in ("", "on", "1", "true"):
            return cls()
        if text in ("off", "0", "false"):
            return cls(overlap=False)
        values: dict[str, Any] = {}
        for part in text.split(","):
            name, sep, value = part.partition("=")
            if not sep or name not in ("rate", "seed", "hold"):
                raise ConflictsError(
                    f"LOCAL_CONFLICTS: cannot read {part!r}; write on (the default), off, or "
                    "rate=R[,seed=N][,hold=S], e.g. LOCAL_CONFLICTS=rate=0.1,seed=7"
                )
            try:
                values[name] = int(value) if name == "seed" else float(value)
            except ValueError:
                raise ConflictsError(f"LOCAL_CONFLICTS: {name}={value!r} is not a number") from None
        if not 0 <= values.get("rate", 0.0) <= 1:
            raise ConflictsError(f"LOCAL_CONFLICTS: rate={values['rate']} is not between 0 and 1")
        if values.get("hold", 0.0) < 0:
            raise ConflictsError(f"LOCAL_CONFLICTS: hold={values['hold']} is negative")
        return cls(**values)

    @property
    def active(self) -> bool:
        return self.overlap or self.rate > 0

    def describe(self) -> str:
        if not self.active:
            return "off"
        drawn = f", drawn at {self.rate:.0%}" if self.rate else ""
        overlap = f"by overlap in time (a transaction holds its items {self.hold * 1000:.0f} ms)"
        return f"{overlap}{drawn}" if self.overlap else f"drawn at {self.rate:.0%}"


@dataclass
class Emulator:
    """Tracks the items in-flight writes hold, decides conflicts, counts them per function.

    `counted[(function, kind)]`: kind is `cancelled` (a TransactWriteItems cancelled),
    `conflict` (a single write refused), `transactions` and `writes` (requests seen)."""

    conflicts: Conflicts = field(default_factory=Conflicts)
    counted: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.conflicts.seed)  # noqa: S311 (emulation, not secrets)
        self._transactions: Counter[ItemKey] = Counter()
        """Items held by an ongoing transaction -> how many hold them (1 but for moto's bugs)."""
        self._writes: Counter[ItemKey] = Counter()
        """Items held by ongoing single writes."""

    def total(self, kind: str) -> int:
        return sum(n for (_, k), n in self.counted.items() if k == kind)

    @contextmanager
    def transaction(self, function: str, items: Sequence[ItemKey]) -> Iterator[list[int]]:
        """Hold `items` while the body applies the transaction. Yields the indexes of the
        items that conflict (empty: go ahead)."""
        with self._lock:
            self.counted[(function, "transactions")] += 1
            busy = [
                i
                for i, key in enumerate(items)
                if self.conflicts.overlap and (key in self._transactions or key in self._writes)
            ]
            if not busy and items and self._draw():
                busy = [self._random.randrange(len(items))]
            if busy:
                self.counted[(function, "cancelled")] += 1
            else:
                self._transactions.update(items)
        try:
            yield busy
        finally:
            if not busy:
                with self._lock:
                    self._transactions -= Counter(items)  # keeps only the items still held

    @contextmanager
    def write(self, function: str, item: ItemKey | None) -> Iterator[bool]:
        """Hold `item` while the body applies a single write. Yields whether it conflicts."""
        with self._lock:
            self.counted[(function, "writes")] += 1
            busy = item is not None and (
                (self.conflicts.overlap and item in self._transactions) or self._draw()
            )
            if busy:
                self.counted[(function, "conflict")] += 1
            elif item is not None:
                self._writes[item] += 1
        try:
            yield busy
        finally:
            if not busy and item is not None:
                with self._lock:
                    self._writes -= Counter([item])

    def _draw(self) -> bool:
        return self.conflicts.rate > 0 and self._random.random() < self.conflicts.rate


_emulators = iam.PerCaller(Emulator(Conflicts(overlap=False)))
"""Each stack's emulator, by its functions' access keys, and the default one."""


def configure(conflicts: Conflicts, access_keys: Iterable[str] | None = None) -> Emulator:
    """Emulate `conflicts` from now on for the requests made with `access_keys` (one stack's
    functions), or by default for every function's (Conflicts(overlap=False) turns
    emulation off)."""
    return _emulators.set(Emulator(conflicts), access_keys)


release = _emulators.release


# ---------------------------------------------------------------------------- requests


def _key_of(handler: Any, table: str, body: Mapping[str, Any]) -> ItemKey | None:
    """The item a Put (its Item's key attributes), Update, Delete or ConditionCheck names."""
    key = body.get("Key")
    if key is None:
        item = body.get("Item") or {}
        try:
            schema = handler.dynamodb_backend.get_table(table)
        except Exception:  # an unknown table: moto answers it; nothing to hold
            return None
        names = [schema.hash_key_attr, schema.range_key_attr]
        key = {name: item.get(name) for name in names if name}
    return table, json.dumps(key, sort_keys=True)


def transaction_items(handler: Any, params: Mapping[str, Any]) -> list[ItemKey | None]:
    return [
        _key_of(handler, str(body.get("TableName", "")), body)
        for entry in params.get("TransactItems") or []
        for body in entry.values()
    ]


def cancelled(size: int, busy: Sequence[int]) -> tuple[int, dict[str, str], str]:
    """DynamoDB's answer to a transaction cancelled by conflicts on the `busy` items."""
    reasons: list[dict[str, str]] = [{"Code": "None"} for _ in range(size)]
    for index in busy:
        reasons[index] = {
            "Code": "TransactionConflict",
            "Message": "Transaction is ongoing for the item",
        }
    codes = ", ".join(r["Code"] for r in reasons)
    body = {
        "__type": f"{_PREFIX}TransactionCanceledException",
        "Message": f"Transaction cancelled, please refer cancellation reasons for specific "
        f"reasons [{codes}]",
        "CancellationReasons": reasons,
    }
    return _answer("TransactionCanceledException", body)


def conflict() -> tuple[int, dict[str, str], str]:
    """DynamoDB's answer to a single write into an ongoing transaction's item."""
    body = {
        "__type": f"{_PREFIX}TransactionConflictException",
        "message": "Transaction is ongoing for the item",
    }
    return _answer("TransactionConflictException", body)


def _answer(code: str, body: Mapping[str, Any]) -> tuple[int, dict[str, str], str]:
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    return 400, headers, json.dumps(body)


@functools.cache
def install() -> None:
    """Hook the emulator into moto's DynamoDB handler, once per process (idempotent): a
    function's TransactWriteItems or single write is checked and its items held around
    moto's own call_action."""
    moto_fixes.around_dynamodb(_emulate)


def _emulate(handler: Any, call_action: Callable[[Any], Any]) -> Any:
    action = handler._get_action()
    if action != TRANSACTION and action not in SINGLE_WRITES:
        return call_action(handler)
    caller = _emulators.of(handler.headers)
    if caller is None or not caller[1].conflicts.active:
        return call_action(handler)
    function, emulator = caller[0].function, caller[1]
    params = iam.params_of(handler)
    if action == TRANSACTION:
        items = transaction_items(handler, params)
        held = [key for key in items if key is not None]
        with emulator.transaction(function, held) as busy:
            if busy:
                # indexes into `held`; the answer's reasons index the request's items
                positions = [i for i, key in enumerate(items) if key is not None]
                return cancelled(len(items), [positions[i] for i in busy])
            if emulator.conflicts.overlap and emulator.conflicts.hold:
                time.sleep(emulator.conflicts.hold)  # DynamoDB's prepare phase
            return call_action(handler)
    key = _key_of(handler, str(params.get("TableName", "")), params)
    with emulator.write(function, key) as busy:
        return conflict() if busy else call_action(handler)


__all__ = ["Conflicts", "ConflictsError", "Emulator", "configure", "install"]
