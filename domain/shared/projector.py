"""Applies recorded events to the views: once each, in version order per stream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from domain.shared.events import DomainEvent, EventRegistry, RecordedEvent, registry
from domain.shared.ports import EventStore
from domain.shared.views import (
    Change,
    Delete,
    Doc,
    Increment,
    Page,
    Put,
    ViewKey,
    ViewReader,
    ViewStore,
)


class Projection(ABC):
    """Turns one event into view changes. Pure: reads views, returns changes, writes nothing."""

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


class Projector:
    """Gap-aware, idempotent application of events to the views.

    Streams deliver records per item, so event v+1 may arrive before v: the projector
    reads the missing versions from the event table and applies them first. A record at
    or below the stream's position is a duplicate and changes nothing."""

    def __init__(
        self,
        projections: Sequence[Projection],
        events: EventStore,
        views: ViewStore,
        *,
        registry: EventRegistry = registry,
    ) -> None:
        self.projections = projections
        self.events = events
        self.views = views
        self.registry = registry

    def project(self, recorded: RecordedEvent) -> Outcome:
        """Apply `recorded` (and any missing earlier version of its stream) exactly once."""
        stream_id = recorded.stream_id
        position = self.views.position(stream_id)
        if recorded.version <= position:
            return Outcome(stream_id, ())
        batch = []
        if recorded.version > position + 1:
            batch = self.events.read(stream_id, after=position, up_to=recorded.version - 1)
        return self._apply(stream_id, position, [*batch, recorded])

    def catch_up(self, stream_id: str) -> Outcome:
        """Apply every stored event of the stream past its position."""
        position = self.views.position(stream_id)
        return self._apply(stream_id, position, self.events.read(stream_id, after=position))

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
            decoded = self.registry.decode(event)
            for projection in self.projections:
                staged.stage(projection.apply(decoded, event, staged))
        self.views.commit(
            stream_id, from_version=position, to_version=expected[-1], changes=staged.changes()
        )
        return Outcome(stream_id, tuple(expected))


def rebuild(projector: Projector) -> int:
    """Apply every stored event to the projector's views; returns the streams visited.

    Idempotent like the stream path: on views already up to date it changes nothing; on
    empty views it rebuilds them (DynamoDB Streams keep 24 hours, the event table all)."""
    visited = 0
    for stream_id in projector.events.stream_ids():
        projector.catch_up(stream_id)
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
                counts = dict(staged.counts)
                for name, delta in change.counts.items():
                    counts[name] = counts.get(name, 0) + delta
                change = Increment(change.key, counts)
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
        pk: str,
        *,
        index: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        # Projections read single documents; a query would not see staged changes.
        raise NotImplementedError("projections read documents by key, not by query")
