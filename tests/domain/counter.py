"""A tiny aggregate for testing the event-sourcing machinery itself."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from event_sourcing.events import DomainEvent, EventRegistry
from event_sourcing.repository import Aggregate, applies

test_events = EventRegistry()


@test_events.event
@dataclass(frozen=True)
class Added(DomainEvent):
    amount: int


@test_events.event
@dataclass(frozen=True)
class Audited(DomainEvent):
    """A process's bookkeeping: it moves the stream, not the version users see."""

    background: ClassVar[bool] = True
    note: str


@dataclass(frozen=True)
class Total:
    total: int = 0
    changes: int = 0


class Counter(Aggregate[Total]):
    stream_prefix = "counter"
    state_type = Total

    def add(self, amount: int) -> None:
        self._record(Added(amount))

    def audit(self, note: str) -> None:
        self._record(Audited(note))

    @applies(Audited)
    def _audited(self, state: Total, event: Audited) -> Total:
        return state

    @applies(Added)
    def _added(self, state: Total, event: Added) -> Total:
        return replace(state, total=state.total + event.amount, changes=state.changes + 1)
