"""The event-sourced aggregate: state changes only by applying events."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

from event_sourcing import codec
from event_sourcing.events import DomainEvent

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
        aggregate = cls(id, codec.decode(cls.state_type, state), version)
        aggregate.snapshot_version = version
        aggregate.visible_version = int(visible)
        return aggregate

    def snapshot_state(self) -> dict[str, Any]:
        encoded: dict[str, Any] = codec.encode(self.state)
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
