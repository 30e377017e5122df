"""Applies recorded events to the views: once each, in version order per stream."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from event_sourcing.events import DomainEvent, EventRegistry, RecordedEvent, registry
from event_sourcing.repository import EventStore
from event_sourcing.views import (
    Change,
    Delete,
    Doc,
    GenerationsChanged,
    Guard,
    Increment,
    Page,
    PositionMoved,
    Put,
    ViewKey,
    ViewReader,
    ViewStore,
)


class Projection(ABC):
    """Turns one event into view changes. Pure: reads views, returns changes, writes nothing.

    `name` and `version` identify it: a changed `version` is rebuilt into a new generation
    (docs/operations.md, "Rebuild a projection"). It follows the streams whose ids start
    with one of `streams`, every event of them (its position moves on each)."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    streams: ClassVar[tuple[str, ...]] = ("",)
    spread: ClassVar[frozenset[str]] = frozenset()
    """Collections every stream may write (a list of all orders): the store spreads each
    over partitions and merges them on read (`ViewStore.spreading`)."""

    def views_of(self, views: ViewStore, prefix: str) -> ViewStore:
        """`views` as this projection's generation under `prefix` keeps them."""
        scoped = views.scoped(prefix)
        return scoped.spreading(self.spread) if self.spread else scoped

    def follows(self, stream_id: str) -> bool:
        return stream_id.startswith(self.streams)

    @abstractmethod
    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]: ...


class GapNotFilled(Exception):
    """The event table does not (yet) hold the events between the position and a record."""


@dataclass(frozen=True)
class Outcome:
    stream_id: str
    applied: tuple[int, ...]

    @property
    def duplicate(self) -> bool:
        return not self.applied


@dataclass(frozen=True)
class Generation:
    """One build of one projection's views: its keys live under `prefix`."""

    projection: str
    number: int
    version: int

    @property
    def prefix(self) -> str:
        return f"{self.projection}.{self.number}|"


class Projector:
    """Gap-aware, idempotent application of events to one generation of one projection.

    Streams deliver records per item, so event v+1 may arrive before v: the projector
    reads the missing versions from the event table and applies them first. A record at
    or below the stream's position is a duplicate and changes nothing. Every commit carries
    `guard` (the generations it was built from), so none lands after they change."""

    def __init__(
        self,
        projection: Projection,
        events: EventStore,
        views: ViewStore,
        *,
        guard: Guard | None = None,
        registry: EventRegistry = registry,
    ) -> None:
        self.projection = projection
        self.events = events
        self.views = views
        self.guard = guard
        self.registry = registry

    def project(self, recorded: RecordedEvent) -> Outcome:
        """Apply `recorded` (and any missing earlier version of its stream) exactly once."""
        stream_id = recorded.stream_id
        if not self.projection.follows(stream_id):
            return Outcome(stream_id, ())

        def attempt() -> Outcome:
            position = self.views.position(stream_id)
            if recorded.version <= position:
                return Outcome(stream_id, ())
            batch = []
            if recorded.version > position + 1:
                batch = self.events.read(stream_id, after=position, up_to=recorded.version - 1)
            return self._apply(stream_id, position, [*batch, recorded])

        return _from_fresh_positions(attempt)

    def catch_up(self, stream_id: str) -> Outcome:
        """Apply every stored event of the stream past its position."""
        if not self.projection.follows(stream_id):
            return Outcome(stream_id, ())

        def attempt() -> Outcome:
            position = self.views.position(stream_id)
            return self._apply(stream_id, position, self.events.read(stream_id, after=position))

        return _from_fresh_positions(attempt)

    def _apply(self, stream_id: str, position: int, batch: list[RecordedEvent]) -> Outcome:
        expected = list(range(position + 1, position + 1 + len(batch)))
        if [r.version for r in batch] != expected:
            raise GapNotFilled(
                f"{stream_id}: have versions {[r.version for r in batch]}, need {expected}"
            )
        if not batch:
            return Outcome(stream_id, ())
        staged = _Staged(self.views)
        for event in batch:
            staged.stage(self.projection.apply(self.registry.decode(event), event, staged))
        self.views.commit(
            stream_id,
            from_version=position,
            to_version=expected[-1],
            changes=staged.changes(),
            guard=self.guard,
        )
        return Outcome(stream_id, tuple(expected))


GENERATION_RETRIES = 5
POSITION_RETRIES = 3
"""Another writer of one stream's views (a redrive, a replay beside the stream) moved its
position meanwhile: decide again from the new one, a few times (usually a duplicate)."""


def _from_fresh_positions(attempt: Callable[[], Outcome]) -> Outcome:
    for _ in range(POSITION_RETRIES - 1):
        try:
            return attempt()
        except PositionMoved:
            continue
    return attempt()


class Projectors:
    """Every active generation of every projection, as `load` reads them.

    The generations are read once and kept for at most `lease()` seconds (never again if
    None): that bound is what fences a rebuild (event_sourcing/rebuild.py waits it out
    after every change of the active generations), so no commit has to check the
    generations' pointer, one item that all the projection's traffic would share. A commit
    whose projector was guarded (`Projector.guard`) and found them changed
    (`GenerationsChanged`) reads them again at once and applies the event to each (a
    generation that already has it sees a duplicate)."""

    def __init__(
        self,
        events: EventStore,
        load: Callable[[], Sequence[Projector]],
        *,
        lease: Callable[[], float | None] = lambda: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.events = events
        self._load = load
        self._lease = lease
        self._monotonic = monotonic
        self._targets: Sequence[Projector] | None = None
        self._loaded_at = 0.0

    @classmethod
    def first_generation(
        cls,
        projections: Sequence[Projection],
        events: EventStore,
        views: ViewStore,
        *,
        registry: EventRegistry = registry,
    ) -> Projectors:
        """Each projection into generation 1 of `views`, unguarded (a fresh stack's live
        generation; rebuilds into an empty table)."""
        targets = [
            Projector(
                p,
                events,
                p.views_of(views, Generation(p.name, 1, p.version).prefix),
                registry=registry,
            )
            for p in projections
        ]
        return cls(events, lambda: targets)

    def targets(self) -> Sequence[Projector]:
        """The projectors of the active generations, read again once the lease ran out.

        The lease is counted from before the read: a pointer changed after it was read is
        seen by every commit that starts more than `lease()` seconds after the change."""
        lease = self._lease()
        now = self._monotonic()
        if self._targets is None or (lease is not None and now - self._loaded_at >= lease):
            self._targets = self._load()
            self._loaded_at = now
        return self._targets

    def project(self, recorded: RecordedEvent) -> Outcome:
        return self._each(lambda target: target.project(recorded), recorded.stream_id)

    def catch_up(self, stream_id: str) -> Outcome:
        return self._each(lambda target: target.catch_up(stream_id), stream_id)

    def _each(self, run: Callable[[Projector], Outcome], stream_id: str) -> Outcome:
        for _ in range(GENERATION_RETRIES):
            try:
                applied: set[int] = set()
                for target in self.targets():
                    applied.update(run(target).applied)
                return Outcome(stream_id, tuple(sorted(applied)))
            except GenerationsChanged:
                self._targets = None
        raise GenerationsChanged(f"the generations kept changing while applying {stream_id}")


def rebuild(projectors: Projectors | Projector) -> int:
    """Apply every stored event to the projectors' views; returns the streams visited.

    Idempotent like the stream path: on views already up to date it changes nothing; on
    empty views it rebuilds them (DynamoDB Streams keep 24 hours, the event table all)."""
    visited = 0
    for stream_id in projectors.events.stream_ids():
        projectors.catch_up(stream_id)
        visited += 1
    return visited


class _Staged(ViewReader):
    """The views as they will be once the staged changes are written (last write wins)."""

    def __init__(self, views: ViewReader) -> None:
        self._views = views
        self._changes: dict[ViewKey, Change] = {}

    def stage(self, changes: Sequence[Change]) -> None:
        for change in changes:
            staged = self._changes.get(change.key)
            if isinstance(change, Increment) and staged is not None:
                if not isinstance(staged, Increment):
                    raise ValueError(f"{change.key} is both written and incremented")
                if staged.ahead != change.ahead:
                    raise ValueError(f"{change.key} is incremented both ahead and not")
                counts = dict(staged.counts)
                for name, delta in change.counts.items():
                    counts[name] = counts.get(name, 0) + delta
                change = Increment(change.key, counts, ahead=change.ahead)
            elif isinstance(staged, Increment):
                raise ValueError(f"{change.key} is both incremented and written")
            self._changes[change.key] = change

    def changes(self) -> list[Change]:
        return list(self._changes.values())

    def get(self, key: ViewKey) -> Doc | None:
        change = self._changes.get(key)
        if isinstance(change, Put):
            return dict(change.doc)
        if isinstance(change, Delete):
            return None
        if isinstance(change, Increment) and change.ahead:
            # An estimate (`Increment.ahead`): read as it will be, the batch's additions on
            # what is stored (the search's trigram counters, read to saturate them).
            counted = self._views.get(key) or {}
            for name, delta in change.counts.items():
                counted[name] = counted.get(name, 0) + delta
            return counted
        if isinstance(change, Increment):
            raise ValueError(f"{key} is incremented in this batch: projections add, not read")
        return self._views.get(key)

    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        found = {}
        for key in keys:
            doc = self.get(key)
            if doc is not None:
                found[key] = doc
        return found

    def query(
        self,
        collection: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        # Projections read single documents; a query would not see staged changes.
        raise NotImplementedError("projections read documents by key, not by query")

    def listing(
        self,
        name: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
    ) -> Page:
        raise NotImplementedError("projections read documents by key, not by listing")
