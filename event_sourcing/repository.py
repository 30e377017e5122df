"""The write side: the event-sourced aggregate (its state changes only by applying
events), the event store port (an append-only log of streams with optimistic concurrency),
and the repository that loads an aggregate, has it decide, and appends what it decided."""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from event_sourcing.errors import (
    ConcurrencyError,
    HeldTooLate,
    StreamNotFound,
    VersionMismatch,
)
from event_sourcing.events import (
    Clock,
    DomainEvent,
    EventRegistry,
    IdGenerator,
    Metadata,
    RecordedEvent,
    Snapshot,
    decode,
    encode,
    registry,
)
from event_sourcing.guards import Claim, Hold, HoldsKeys, Retire

S = TypeVar("S")
Applier = Callable[..., Any]


def applies(event_type: type[DomainEvent]) -> Callable[[Applier], Applier]:
    """Marks a method as the way one event type changes the aggregate's state.

    The method takes the current state and the event, and returns the new state."""

    def mark(method: Applier) -> Applier:
        method.__applies__ = event_type  # type: ignore[attr-defined]
        return method

    return mark


_VISIBLE_VERSION = "__visible_version"
"""A snapshot's note of `visible_version` when it differs from the snapshot's version."""


class Aggregate(Generic[S]):
    """Base of every aggregate: an id, a version, a state dataclass and pending events.

    `version` counts every event applied, pending ones included, so that after a
    command it is the version the stream will have once the events are stored.
    `visible_version` is the version of the newest event that is not `background`: what
    its users are answered (ETag) and checked against (If-Match)."""

    stream_prefix: ClassVar[str]
    state_type: ClassVar[type[Any]]
    snapshot_schema: ClassVar[int] = 1
    _appliers: ClassVar[dict[type[DomainEvent], Applier]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._appliers = {
            method.__applies__: method
            for klass in reversed(cls.__mro__)
            for method in vars(klass).values()
            if callable(method) and hasattr(method, "__applies__")
        }

    def __init__(self, id: str, state: S, version: int = 0) -> None:
        self.id = id
        self.state = state
        self.version = version
        self.visible_version = version
        self.pending: list[DomainEvent] = []
        self.snapshot_version = 0

    @classmethod
    def stream_id_of(cls, id: str) -> str:
        return f"{cls.stream_prefix}-{id}"

    @property
    def stream_id(self) -> str:
        return self.stream_id_of(self.id)

    @property
    def exists(self) -> bool:
        return self.version > 0

    @classmethod
    def blank(cls, id: str) -> Self:
        """The aggregate before its first event."""
        return cls(id, cls.state_type())

    @classmethod
    def rebuild(cls, id: str, history: Iterable[DomainEvent], *, base: Self | None = None) -> Self:
        """Replay `history` on top of `base` (a restored snapshot) or a blank aggregate."""
        aggregate = base if base is not None else cls.blank(id)
        for event in history:
            aggregate._apply(event)
        return aggregate

    @classmethod
    def restore(cls, id: str, version: int, state: dict[str, Any]) -> Self:
        state = dict(state)
        visible = state.pop(_VISIBLE_VERSION, version)
        aggregate = cls(id, decode(cls.state_type, state), version)
        aggregate.snapshot_version = version
        aggregate.visible_version = int(visible)
        return aggregate

    def snapshot_state(self) -> dict[str, Any]:
        encoded: dict[str, Any] = encode(self.state)
        if self.visible_version != self.version:
            encoded[_VISIBLE_VERSION] = self.visible_version
        return encoded

    def _record(self, event: DomainEvent) -> None:
        """Apply a new event and keep it for the store."""
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: DomainEvent) -> None:
        applier = self._appliers.get(type(event))
        if applier is None:
            raise TypeError(f"{type(self).__name__} has no applier for {type(event).__name__}")
        self.state = applier(self, self.state, event)
        self.version += 1
        if not type(event).background:
            self.visible_version = self.version


class Publishes:
    """Mixed into an aggregate that keeps a small published state beside its stream: what
    others must read often and fast (a user's standing, for every request's authorizer),
    one strongly consistent read of one item (`EventStore.published`) instead of a load.

    The repository writes it in the same atomic write as the events that change it: it
    compares `published()` with what the stream last published (recorded with its newest
    event, `StreamTail.published`), so no command can forget it. A stream written before
    its aggregate published has none recorded: its first append publishes."""

    _published_stored: Mapping[str, Any] | None = None

    @abstractmethod
    def published(self) -> Mapping[str, Any]:
        """The published state as of the current state: small, JSON-able, no secrets."""

    def published_stored(self, doc: Mapping[str, Any] | None) -> None:
        """What the store's published item now holds (after a load or a save)."""
        self._published_stored = doc

    def published_changed(self) -> bool:
        """Whether the store's published item must be written with the pending events."""
        return dict(self.published()) != self._published_stored


MAX_APPEND_ITEMS = 100
"""The most events, published states, claims, holds and retirements one atomic append
writes (DynamoDB's limit on a transaction). Commands are bounded to fit (an order's lines,
for one)."""


def check_append(
    appends: Sequence[Append],
    claims: Sequence[Claim],
    holds: Sequence[Hold],
    retire: Sequence[Retire],
) -> int:
    """The number of items the append writes, if every store can write it atomically."""
    keys = [(h.namespace, h.key, h.holder) for h in holds] + [
        (r.namespace, r.key, None) for r in retire
    ]
    retired = {(r.namespace, r.key) for r in retire}
    if len(set(keys)) != len(keys) or any((h.namespace, h.key) in retired for h in holds):
        raise ValueError("one append changes each held key at most once")
    published = sum(1 for a in appends if a.publish)
    items = sum(len(a.events) for a in appends) + published + len(claims) + len(keys)
    if items > MAX_APPEND_ITEMS:
        raise ValueError(
            f"one atomic append holds at most {MAX_APPEND_ITEMS} events, published states, "
            f"claims and holds, not {items}: split the command"
        )
    return items


@dataclass(frozen=True)
class Append:
    """Events to add to one stream, which must be at `expected_version`."""

    stream_id: str
    expected_version: int
    events: Sequence[RecordedEvent]
    snapshot: Snapshot | None = None
    published: Mapping[str, Any] | None = None
    """The stream's published state after these events (see `EventStore.published`), or
    None for a stream that publishes nothing. Recorded with the last event, so that a load
    knows what the stream last published (`StreamTail.published`)."""
    publish: bool = False
    """Write `published` to the stream's published item as well, in the same atomic write
    (one more item): it differs from what the stream last published, or the stream never
    published (it was written before it did)."""

    def __post_init__(self) -> None:
        first = self.expected_version + 1
        numbered = [e.version for e in self.events] == list(range(first, first + len(self.events)))
        if not numbered or any(e.stream_id != self.stream_id for e in self.events):
            raise ValueError(f"events of {self.stream_id!r} must be numbered from {first} on")
        if self.snapshot is not None and self.snapshot.version != first + len(self.events) - 1:
            raise ValueError("a snapshot is taken after the last event of its append")
        if self.publish and (self.published is None or not self.events):
            raise ValueError("a published state is written with the events that lead to it")


@dataclass(frozen=True)
class StreamTail:
    """What a command needs of a stream: its version, the newest snapshot, the events after."""

    stream_id: str
    version: int
    snapshot: Snapshot | None
    events: Sequence[RecordedEvent] = field(default_factory=tuple)
    published: Mapping[str, Any] | None = None
    """The published state recorded with the newest event: what the stream's published
    item holds. None if the newest event carries none: the stream publishes nothing, or it
    was last written before it published (its item may then be missing or behind)."""


class EventStore(ABC):
    """An append-only log of streams with optimistic concurrency.

    Invariants every implementation keeps:
    - `append` writes every event of every `Append`, every published state and every
      claim, or nothing;
    - it raises `ConcurrencyError` if a stream is not at its expected version,
      `UniquenessViolation` if a claim is held by another owner, `KeyRetired` if a hold
      is taken on a retired key and `KeyHeld` if a held key is retired; a store whose
      holders share no item (`Hold.holder`) may instead raise `HeldTooLate` after the
      append landed, having let go of a hold taken while its key was being retired;
    - versions of a stream are 1, 2, 3, ... with no gap;
    - `tail` costs one request however long the stream is, as long as the writer
      snapshots at least every `window` events (see `EventSourcedRepository`)."""

    @abstractmethod
    def append(
        self,
        *appends: Append,
        claims: Sequence[Claim] = (),
        holds: Sequence[Hold] = (),
        retire: Sequence[Retire] = (),
    ) -> None:
        """Append atomically with the claims, holds and retirements, or raise and write
        nothing. At most one hold or retirement per key in one append."""

    @abstractmethod
    def tail(self, stream_id: str, *, window: int) -> StreamTail:
        """The newest snapshot among the last `window` events, and the events after it.

        If none of the last `window` events carries a snapshot, all events are returned
        (and `snapshot` is None)."""

    @abstractmethod
    def head(self, stream_id: str) -> int:
        """The stream's newest version, 0 if it has no event: one small strongly consistent
        read of the version alone (no event data), however long the stream."""

    def tails(self, stream_ids: Sequence[str], *, window: int) -> dict[str, StreamTail]:
        """`tail` of several streams, for a command that writes them all (an order and
        the inventories of its lines). An adapter may read them concurrently."""
        return {stream_id: self.tail(stream_id, window=window) for stream_id in stream_ids}

    @abstractmethod
    def read(
        self, stream_id: str, *, after: int = 0, up_to: int | None = None
    ) -> list[RecordedEvent]:
        """Events with `after < version <= up_to`, in version order."""

    @abstractmethod
    def published(self, stream_id: str) -> Mapping[str, Any] | None:
        """The stream's published state (`Append.publish`), read strongly consistent in one
        small read however long the stream; None if it never published one."""

    @abstractmethod
    def note(self, stream_id: str, name: str, value: str) -> None:
        """Keep `value` as the stream's note `name`, beside its published state and outside
        its events (a sign-in's time): it moves no version and no reader of the events sees
        it. A note already holding a value that sorts at or after `value` is kept (times
        in ISO 8601: the newest wins; a retry changes nothing)."""

    @abstractmethod
    def notes(self, stream_id: str) -> Mapping[str, str]:
        """The stream's notes, by name (one small read)."""

    @abstractmethod
    def claim_owner(self, namespace: str, value: str) -> str | None:
        """The stream holding a claim, if any."""

    @abstractmethod
    def holders(self, namespace: str, key: str) -> int:
        """How many streams hold the key now (consistent)."""

    @abstractmethod
    def stream_pages(
        self, *, segment: int = 0, segments: int = 1, after: str | None = None
    ) -> Iterator[tuple[list[str], str | None]]:
        """The streams that have events, in segment `segment` of `segments` (segments
        partition the streams), a page at a time in no particular order; each page comes
        with the token that resumes after it (`after`), None after the last. For rebuilds:
        it reads the whole table."""

    def stream_ids(self) -> Iterator[str]:
        """Every stream that has events, in no particular order (for rebuilds: costly)."""
        for page, _ in self.stream_pages():
            yield from page

    @abstractmethod
    def streams_since(self, since: datetime) -> set[str]:
        """The streams with an event that occurred at or after `since` (for replays: it
        reads the whole table)."""


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
