"""The event store port: an append-only log of streams with optimistic concurrency."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from event_sourcing.events import RecordedEvent, Snapshot
from event_sourcing.guards import Claim, Hold, Retire

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
