"""In-memory fakes of the kit's ports (store, views, generations, data keys, clock, ids).
They keep state and pass the same contract suites as the DynamoDB adapter; for tests only,
never deployed."""

from __future__ import annotations

import itertools
import json
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from event_sourcing import cursors
from event_sourcing.errors import ConcurrencyError, KeyHeld, KeyRetired, UniquenessViolation
from event_sourcing.events import Clock, IdGenerator, RecordedEvent, Snapshot
from event_sourcing.generations import Generations, Pointer, PointerMoved
from event_sourcing.guards import Claim, Hold, Retire
from event_sourcing.personal import SubjectErased, new_key
from event_sourcing.projector import Generation, Projection
from event_sourcing.repository import Append, EventStore, StreamTail, check_append
from event_sourcing.views import (
    Change,
    Delete,
    Doc,
    GenerationsChanged,
    Guard,
    Increment,
    Listing,
    Page,
    PositionMoved,
    Put,
    ViewKey,
    ViewStore,
)


class ManualClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class SequentialIds(IdGenerator):
    def __init__(self, prefix: str = "id") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):06d}"


@dataclass
class _Stream:
    events: list[RecordedEvent] = field(default_factory=list)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)


class InMemoryEventStore(EventStore):
    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._claims: dict[tuple[str, str], str] = {}
        self._holders: dict[tuple[str, str], int] = {}
        """Holds counted without a holder (what the previous release wrote)."""
        self._lines: dict[tuple[str, str], set[str]] = {}
        """Holds with a holder: the holders of each key."""
        self._retired: set[tuple[str, str]] = set()
        self._published: dict[str, Mapping[str, Any]] = {}
        self._recorded: dict[str, Mapping[str, Any] | None] = {}
        """What each stream's newest append recorded as published (its tail tells it)."""
        self._notes: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def append(
        self,
        *appends: Append,
        claims: Sequence[Claim] = (),
        holds: Sequence[Hold] = (),
        retire: Sequence[Retire] = (),
    ) -> None:
        check_append(appends, claims, holds, retire)
        with self._lock:
            if any(self._landed(append) for append in appends):
                return  # a retry of an append that landed (all or nothing): done
            for hold in holds:
                if hold.delta > 0 and (hold.namespace, hold.key) in self._retired:
                    raise KeyRetired(hold.namespace, hold.key)
            for retirement in retire:
                if self.holders(retirement.namespace, retirement.key) > 0:
                    raise KeyHeld(retirement.namespace, retirement.key)
            for claim in claims:
                owner = self._claims.get((claim.namespace, claim.value))
                if owner is not None and owner != claim.owner:
                    raise UniquenessViolation(claim.namespace, claim.value, owner)
            for append in appends:
                stream = self._streams.get(append.stream_id, _Stream())
                if len(stream.events) != append.expected_version:
                    raise ConcurrencyError(
                        append.stream_id,
                        expected=append.expected_version,
                        actual=len(stream.events),
                    )
            for claim in claims:
                if claim.released:
                    self._claims.pop((claim.namespace, claim.value), None)
                else:
                    self._claims[(claim.namespace, claim.value)] = claim.owner
            for hold in holds:
                key = (hold.namespace, hold.key)
                lines = self._lines.setdefault(key, set())
                if hold.holder is not None and hold.delta > 0:
                    lines.add(hold.holder)
                elif hold.holder is not None and hold.holder in lines:
                    lines.discard(hold.holder)
                elif hold.holder is not None:  # counted by the previous release
                    self._holders[key] = max(self._holders.get(key, 0) - 1, 0)
                else:
                    self._holders[key] = self._holders.get(key, 0) + hold.delta
            self._retired.update((r.namespace, r.key) for r in retire)
            for append in appends:
                stream = self._streams.setdefault(append.stream_id, _Stream())
                stream.events.extend(append.events)
                if append.snapshot is not None:
                    stream.snapshots[append.snapshot.version] = append.snapshot
                self._recorded[append.stream_id] = self._copy(append.published)
                if append.publish and append.published is not None:
                    self._published[append.stream_id] = dict(append.published)

    def _landed(self, append: Append) -> bool:
        stream = self._streams.get(append.stream_id, _Stream())
        first = append.events[0]
        stored = stream.events[first.version - 1] if len(stream.events) >= first.version else None
        return stored is not None and stored.metadata.event_id == first.metadata.event_id

    def tail(self, stream_id: str, *, window: int) -> StreamTail:
        stream = self._streams.get(stream_id, _Stream())
        version = len(stream.events)
        recent = [v for v in stream.snapshots if v > version - window]
        published = self._copy(self._recorded.get(stream_id))
        if not recent:
            return StreamTail(stream_id, version, None, list(stream.events), published)
        snapshot = stream.snapshots[max(recent)]
        later = stream.events[snapshot.version :]
        return StreamTail(stream_id, version, snapshot, later, published)

    def head(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, _Stream()).events)

    def read(
        self, stream_id: str, *, after: int = 0, up_to: int | None = None
    ) -> list[RecordedEvent]:
        events = self._streams.get(stream_id, _Stream()).events
        return [e for e in events if e.version > after and (up_to is None or e.version <= up_to)]

    def published(self, stream_id: str) -> Mapping[str, Any] | None:
        return self._copy(self._published.get(stream_id))

    def note(self, stream_id: str, name: str, value: str) -> None:
        with self._lock:
            notes = self._notes.setdefault(stream_id, {})
            if name not in notes or notes[name] < value:
                notes[name] = value

    def notes(self, stream_id: str) -> Mapping[str, str]:
        return dict(self._notes.get(stream_id, {}))

    def claim_owner(self, namespace: str, value: str) -> str | None:
        return self._claims.get((namespace, value))

    def holders(self, namespace: str, key: str) -> int:
        key_ = (namespace, key)
        return self._holders.get(key_, 0) + len(self._lines.get(key_, ()))

    def stream_pages(
        self, *, segment: int = 0, segments: int = 1, after: str | None = None
    ) -> Iterator[tuple[list[str], str | None]]:
        mine = [s for s in sorted(self._streams) if zlib.crc32(s.encode()) % segments == segment]
        start = int(after) if after is not None else 0
        for at in range(start, len(mine), FAKE_SCAN_PAGE):
            end = at + FAKE_SCAN_PAGE
            yield mine[at:end], (str(end) if end < len(mine) else None)
        if start >= len(mine):
            yield [], None

    def streams_since(self, since: datetime) -> set[str]:
        return {
            stream
            for stream, kept in self._streams.items()
            if any(e.occurred_at >= since for e in kept.events)
        }

    def all_events(self) -> list[RecordedEvent]:
        """Every stored event, stream by stream (for rebuilds and tests)."""
        return [e for s in self._streams.values() for e in s.events]

    @staticmethod
    def _copy(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """A published state as a store gives it back: a copy through JSON, as DynamoDB's."""
        copied: dict[str, Any] | None = json.loads(json.dumps(doc)) if doc is not None else None
        return copied


FAKE_SCAN_PAGE = 3
"""Streams per page of the fake's scan: small, so resuming mid-scan is exercised."""


class InMemoryViewStore(ViewStore):
    """Views in dicts; `scoped` views share them, under their prefix."""

    def __init__(self, prefix: str = "", shared: InMemoryViewStore | None = None) -> None:
        self.prefix = prefix
        self._docs: dict[ViewKey, Doc] = shared._docs if shared else {}
        self._listed: dict[ViewKey, Listing] = shared._listed if shared else {}
        """Where each listed document is listed (by stored key, names prefixed)."""
        self._positions: dict[str, int] = shared._positions if shared else {}
        self._lock: threading.Lock = shared._lock if shared else threading.Lock()

    def scoped(self, prefix: str) -> InMemoryViewStore:
        return InMemoryViewStore(self.prefix + prefix, self)

    def _in(self, key: ViewKey) -> ViewKey:
        return ViewKey(self.prefix + key.collection, key.id)

    def get(self, key: ViewKey) -> Doc | None:
        doc = self._docs.get(self._in(key))
        return _copy(doc) if doc is not None else None

    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        return {key: doc for key in keys if (doc := self.get(key)) is not None}

    def query(
        self,
        collection: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        scoped = self.prefix + collection
        rows = [
            ([key.id, collection, key.id], doc)
            for key, doc in self._docs.items()
            if key.collection == scoped
        ]
        return self._page(rows, "", collection, limit, cursor, descending, after)

    def listing(
        self,
        name: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
    ) -> Page:
        scoped = self.prefix + name
        rows = [
            ([listed.sort, key.collection.removeprefix(self.prefix), key.id], self._docs[key])
            for key, listed in self._listed.items()
            if listed.name == scoped
        ]
        return self._page(rows, "listing", name, limit, cursor, descending, None)

    def _page(
        self,
        rows: list[tuple[list[str], Doc]],
        kind: str,
        name: str,
        limit: int,
        cursor: str | None,
        descending: bool,
        after: str | None,
    ) -> Page:
        """A page of `rows`, each (its order: [sort, collection, id], its document)."""
        rows.sort(key=lambda row: row[0], reverse=descending)
        start = 0
        if after is not None:
            start = next(
                (
                    i
                    for i, (k, _) in enumerate(rows)
                    if (k[0] < after if descending else k[0] > after)
                ),
                len(rows),
            )
        if cursor is not None:
            opened = cursors.open_(
                cursor, expect={"p": name, "i": kind}, keys={"p", "i", "s", "k", "j"}
            )
            last = [opened["s"], opened["k"], opened["j"]]
            start = next(
                (i for i, (k, _) in enumerate(rows) if (k < last if descending else k > last)),
                len(rows),
            )
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        next_cursor = None
        if more and page:
            last_sort, last_collection, last_id = page[-1][0]
            next_cursor = cursors.seal(
                {"p": name, "i": kind, "s": last_sort, "k": last_collection, "j": last_id}
            )
        return Page([_copy(doc) for _, doc in page], next_cursor)

    def position(self, stream_id: str) -> int:
        return self._positions.get(self.prefix + stream_id, 0)

    def commit(
        self,
        stream_id: str,
        *,
        from_version: int,
        to_version: int,
        changes: Sequence[Change],
        guard: Guard | None = None,
    ) -> None:
        with self._lock:
            actual = self._positions.get(self.prefix + stream_id, 0)
            if actual != from_version:
                raise PositionMoved(stream_id, from_version, actual)
            if guard is not None:
                epoch = (self._docs.get(guard.key) or {}).get("epoch", 0)
                if epoch != guard.epoch:
                    raise GenerationsChanged(str(guard.key))
            for change in changes:
                key = self._in(change.key)
                if isinstance(change, Put):
                    self._docs[key] = _copy(dict(change.doc))
                    self._listed.pop(key, None)
                    if change.listed is not None:
                        name = self.prefix + change.listed.name
                        self._listed[key] = Listing(name, change.listed.sort)
                elif isinstance(change, Delete):
                    self._docs.pop(key, None)
                    self._listed.pop(key, None)
                elif isinstance(change, Increment):
                    counted = self._docs.setdefault(key, {})
                    for name, delta in change.counts.items():
                        counted[name] = counted.get(name, 0) + delta
            self._positions[self.prefix + stream_id] = to_version

    def put_raw(self, key: ViewKey, doc: Doc) -> None:
        """Write a document outside any scope and commit (a generation pointer, in tests)."""
        self._docs[key] = _copy(doc)

    def documents(self) -> dict[ViewKey, Doc]:
        """A copy of every document, keys as stored (to compare with a rebuild)."""
        return {key: _copy(doc) for key, doc in self._docs.items()}


def _copy(doc: Doc) -> Doc:
    """A deep copy through JSON: what a store gives back is never what it keeps."""
    copied: Doc = json.loads(json.dumps(doc))
    return copied


class InMemoryGenerations(Generations):
    """Pointers kept as documents of the fake views, where the fake's guards read them."""

    def __init__(self, views: InMemoryViewStore) -> None:
        self.views = views
        self._pointers: dict[str, Pointer] = {}

    def read(self, projections: Sequence[Projection]) -> dict[str, Pointer]:
        return {p.name: self._pointers.get(p.name) or Pointer.initial(p) for p in projections}

    def save(self, pointer: Pointer, *, read_at: int) -> None:
        with self.views._lock:
            stored = self._pointers.get(pointer.projection)
            if (stored.epoch if stored else 0) != read_at and stored != pointer:
                raise PointerMoved(f"the {pointer.projection} pointer moved meanwhile")
            self._pointers[pointer.projection] = pointer
            self.views.put_raw(pointer.key, {"epoch": pointer.epoch})

    def drop(self, generation: Generation) -> int:
        with self.views._lock:
            keys = [k for k in self.views._docs if k.collection.startswith(generation.prefix)]
            for key in keys:
                del self.views._docs[key]
                self.views._listed.pop(key, None)
            positions = [s for s in self.views._positions if s.startswith(generation.prefix)]
            for stream in positions:
                del self.views._positions[stream]
            return len(keys) + len(positions)


class InMemoryKeyStore:
    """The `KeyStore` port in memory: keys by subject, and tombstones once erased."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def create(self, subject: str) -> bytes:
        with self._lock:
            if subject in self._keys:
                key = self._keys[subject]
                if key is None:
                    raise SubjectErased(subject)
                return key
            key = self._keys[subject] = new_key()
            return key

    def get(self, subject: str) -> bytes | None:
        with self._lock:
            return self._keys.get(subject)

    def destroy(self, subject: str) -> None:
        with self._lock:
            self._keys[subject] = None


class InMemoryErasureLog:
    """The `ErasureLog` port in memory."""

    def __init__(self) -> None:
        self._erased: dict[str, datetime] = {}

    def record(self, subject: str, at: datetime) -> None:
        self._erased.setdefault(subject, at)

    def since(self, moment: datetime) -> list[tuple[str, datetime]]:
        return sorted(
            ((s, at) for s, at in self._erased.items() if at >= moment), key=lambda e: e[1]
        )
