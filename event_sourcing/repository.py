"""Load aggregates from their streams and store what they decided."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from event_sourcing.aggregate import Aggregate, Publishes
from event_sourcing.clock import Clock, IdGenerator
from event_sourcing.errors import (
    ConcurrencyError,
    HeldTooLate,
    StreamNotFound,
    VersionMismatch,
)
from event_sourcing.events import EventRegistry, Metadata, RecordedEvent, Snapshot, registry
from event_sourcing.guards import Claim, Hold, HoldsKeys, Retire
from event_sourcing.store import Append, EventStore, StreamTail

A = TypeVar("A", bound=Aggregate[Any])


class CommandContext(Protocol):
    """Why and for whom a command runs: what goes into the metadata of its events."""

    @property
    def correlation_id(self) -> str: ...
    @property
    def causation_id(self) -> str: ...
    @property
    def user_id(self) -> str | None: ...


T = TypeVar("T")
R = TypeVar("R")

SNAPSHOT_EVERY = 10
"""An aggregate is snapshotted when it is this many events past its last snapshot, so the
newest snapshot is always among the last SNAPSHOT_EVERY events: one bounded read loads it."""


@dataclass(frozen=True)
class Backoff:
    """How a command contending with other writers of its streams is decided again: after
    a jittered, exponentially growing pause ("full jitter": anywhere from 0 to
    `first * 2**n`, at most `longest`), for as long as its budget allows. Writers that
    collide then spread out instead of colliding again in step; a command gives up only
    when its budget is spent.

    The budget is `time_left()` when given (the composition root answers the invocation's
    remaining time, less what answering takes: the function's own time budget), else
    `budget` seconds."""

    first: float = 0.01
    longest: float = 0.4
    budget: float = 5.0
    time_left: Callable[[], float] | None = field(default=None, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    jitter: Callable[[float, float], float] = field(default=random.uniform, repr=False)

    def pauses(self) -> Iterable[float]:
        """The pause before each next try, until the budget is spent."""
        budget = self.time_left() if self.time_left is not None else self.budget
        deadline = self.monotonic() + budget
        attempt = 0
        while True:
            pause = self.jitter(0.0, min(self.longest, self.first * 2**attempt))
            if self.monotonic() + pause >= deadline:
                return
            yield pause
            attempt += 1


@dataclass(frozen=True)
class Decision(Generic[R]):
    """What a decision answers (`result`, handed back by `transact`) and writes besides its
    aggregate's new events, in the same write: other aggregates it changed (an order's
    inventories), claims of unique values, retired keys."""

    result: R | None = None
    also: Sequence[Aggregate[Any]] = ()
    claims: Sequence[Claim] = ()
    retire: Sequence[Retire] = ()


@dataclass(frozen=True)
class Outcome(Generic[A, R]):
    """What one command did: the aggregate as stored after it, what its decision answered,
    and the version its users see (the ETag: `Aggregate.visible_version`)."""

    aggregate: A
    result: R | None

    @property
    def version(self) -> int:
        return self.aggregate.visible_version


class EventSourcedRepository:
    """Loads aggregates (snapshot + later events, one read) and appends their new events."""

    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        ids: IdGenerator,
        *,
        events: EventRegistry = registry,
        snapshot_every: int = SNAPSHOT_EVERY,
        backoff: Backoff | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.events = events
        self.snapshot_every = snapshot_every
        self.backoff = backoff or Backoff()

    def load(self, cls: type[A], id: str) -> A:
        """The aggregate as of its newest event; a blank one if the stream is empty."""
        return self._from_tail(
            cls, id, self.store.tail(cls.stream_id_of(id), window=self.snapshot_every)
        )

    def load_many(self, cls: type[A], ids: Iterable[str]) -> dict[str, A]:
        """Several aggregates of one type, read together (see `EventStore.tails`)."""
        ids = list(dict.fromkeys(ids))
        tails = self.store.tails([cls.stream_id_of(i) for i in ids], window=self.snapshot_every)
        return {i: self._from_tail(cls, i, tails[cls.stream_id_of(i)]) for i in ids}

    def _from_tail(self, cls: type[A], id: str, tail: StreamTail) -> A:
        stream_id = cls.stream_id_of(id)
        snapshot, recorded = tail.snapshot, list(tail.events)
        if snapshot is not None and snapshot.schema != cls.snapshot_schema:
            # An older shape of state: rebuild from the whole history; the next save
            # writes a snapshot of the current shape.
            snapshot, recorded = None, self.store.read(stream_id, up_to=tail.version)
        base = (
            cls.restore(id, snapshot.version, self.events.open(cls.state_type, snapshot.state))
            if snapshot
            else None
        )
        aggregate = cls.rebuild(id, (self.events.decode(r) for r in recorded), base=base)
        _holds_stored(aggregate)
        _published_stored(aggregate, tail.published)
        return aggregate

    def get(self, cls: type[A], id: str) -> A:
        """The existing aggregate; `StreamNotFound` if its stream is empty."""
        aggregate = self.load(cls, id)
        if not aggregate.exists:
            raise StreamNotFound(cls.stream_id_of(id))
        return aggregate

    def transact(
        self,
        cls: type[A],
        id: str,
        decide: Callable[[A], Decision[R] | None],
        *,
        context: CommandContext,
        expected_version: int | None = None,
        load: Callable[[str], A] | None = None,
    ) -> Outcome[A, R]:
        """One command, as Equinox's `Decider.Transact`: load the aggregate (snapshot and
        later events: one read), `decide` on it (raise to refuse; record events on it), and
        append what it decided in one write. After a concurrent write to any stream the
        write touches, the whole of it runs again on fresh state (`run`). Answers the
        aggregate as stored and the decision's `result`.

        `load` (default `self.load`) may refuse first: no such aggregate, not the caller's.
        Then `expected_version` (If-Match) is checked, here and nowhere else: after a
        concurrent write to this stream a retry ends in `VersionMismatch`; after one to
        another stream it decides again."""

        def attempt() -> Outcome[A, R]:
            aggregate = load(id) if load is not None else self.load(cls, id)
            # the version its users saw: a process's bookkeeping since then fails no one
            if expected_version is not None and aggregate.visible_version != expected_version:
                raise VersionMismatch(expected=expected_version, actual=aggregate.visible_version)
            decision: Decision[R] = decide(aggregate) or Decision()
            self.save(
                aggregate,
                *decision.also,
                context=context,
                claims=decision.claims,
                retire=decision.retire,
            )
            return Outcome(aggregate, decision.result)

        return self.run(attempt)

    def head(self, cls: type[A], id: str) -> int:
        """The aggregate's newest version, 0 if its stream is empty (one small read)."""
        return self.store.head(cls.stream_id_of(id))

    def history(self, cls: type[A], id: str) -> list[RecordedEvent]:
        return self.store.read(cls.stream_id_of(id))

    def published(self, cls: type[A], id: str) -> Mapping[str, Any] | None:
        """The aggregate's published state (see `Publishes`): one small read, no load.
        None if its stream never published one (written before it did, or empty)."""
        return self.store.published(cls.stream_id_of(id))

    def note(self, cls: type[A], id: str, name: str, value: str) -> None:
        """A note beside the aggregate's stream, outside its events (`EventStore.note`)."""
        self.store.note(cls.stream_id_of(id), name, value)

    def notes(self, cls: type[A], id: str) -> Mapping[str, str]:
        return self.store.notes(cls.stream_id_of(id))

    def save(
        self,
        *aggregates: Aggregate[Any],
        context: CommandContext,
        claims: Sequence[Claim] = (),
        retire: Sequence[Retire] = (),
    ) -> None:
        """Append every aggregate's pending events, the claims, the retirements, the holds
        the events take or let go of and the published states they change, in one atomic
        write."""
        changed = [a for a in aggregates if a.pending]
        if not changed:
            return
        appends = [self._append_of(a, context) for a in changed]
        holds = _hold_changes(changed)
        # HeldTooLate: the events landed, a hold on a key retired meanwhile did not; what
        # was appended is stored all the same (the use case undoes what needed the key).
        try:
            self.store.append(*appends, claims=claims, holds=holds, retire=retire)
        except HeldTooLate:
            self._stored(changed, appends)
            raise
        self._stored(changed, appends)

    def _stored(self, changed: Sequence[Aggregate[Any]], appends: Sequence[Append]) -> None:
        for aggregate, append in zip(changed, appends, strict=True):
            aggregate.pending.clear()
            _holds_stored(aggregate)
            _published_stored(aggregate, append.published)
            if append.snapshot is not None:
                aggregate.snapshot_version = append.snapshot.version

    def run(self, attempt: Callable[[], T]) -> T:
        """`attempt()`, and again after a concurrent write (`ConcurrencyError`), spaced by
        `backoff`; `ConcurrencyError` only once its budget is spent. Use cases call
        `transact`, which runs its load -> decide -> append through this."""
        pauses = iter(self.backoff.pauses())
        while True:
            try:
                return attempt()
            except ConcurrencyError:
                pause = next(pauses, None)
                if pause is None:
                    raise
                self.backoff.sleep(pause)

    def _append_of(self, aggregate: Aggregate[Any], context: CommandContext) -> Append:
        start = aggregate.version - len(aggregate.pending)
        now = self.clock.now()
        recorded = []
        for offset, event in enumerate(aggregate.pending, start=1):
            type_name, schema_version, data = self.events.encode(event)
            data = self.events.seal(type(event), data, aggregate.id)
            recorded.append(
                RecordedEvent(
                    stream_id=aggregate.stream_id,
                    version=start + offset,
                    type=type_name,
                    schema_version=schema_version,
                    occurred_at=now,
                    data=data,
                    metadata=Metadata(
                        event_id=self.ids.new_id(),
                        correlation_id=context.correlation_id,
                        causation_id=context.causation_id,
                        user_id=context.user_id,
                    ),
                )
            )
        snapshot = None
        if aggregate.version - aggregate.snapshot_version >= self.snapshot_every:
            snapshot = Snapshot(
                version=aggregate.version,
                schema=aggregate.snapshot_schema,
                state=self.events.seal(
                    aggregate.state_type, aggregate.snapshot_state(), aggregate.id
                ),
            )
        if not isinstance(aggregate, Publishes):
            return Append(aggregate.stream_id, start, recorded, snapshot)
        published = dict(aggregate.published())
        return Append(
            aggregate.stream_id,
            start,
            recorded,
            snapshot,
            published=published,
            publish=aggregate.published_changed(),
        )


def _holds_stored(aggregate: object) -> None:
    if isinstance(aggregate, HoldsKeys):
        aggregate.holds_stored()


def _published_stored(aggregate: object, doc: Mapping[str, Any] | None) -> None:
    if isinstance(aggregate, Publishes):
        aggregate.published_stored(doc)


def _hold_changes(aggregates: Sequence[Aggregate[Any]]) -> list[Hold]:
    """The keys each aggregate took and let go of since it was loaded, each held by the
    aggregate's stream: one item per holder and key, so holders of a key never contend."""
    holds: list[Hold] = []
    for aggregate in aggregates:
        if isinstance(aggregate, HoldsKeys):
            taken, released = aggregate.holds_taken_and_released()
            holder = aggregate.stream_id
            holds += [Hold(ns, key, 1, holder) for ns, key in sorted(taken)]
            holds += [Hold(ns, key, -1, holder) for ns, key in sorted(released)]
    return holds
