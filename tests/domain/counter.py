"""A tiny aggregate for testing the event-sourcing machinery itself."""

from __future__ import annotations

from dataclasses import dataclass, replace

from event_sourcing.aggregate import Aggregate, applies
from event_sourcing.events import DomainEvent, EventRegistry

test_events = EventRegistry()


@test_events.event
@dataclass(frozen=True)
class Added(DomainEvent):
    amount: int


@dataclass(frozen=True)
class Total:
    total: int = 0
    changes: int = 0


class Counter(Aggregate[Total]):
    stream_prefix = "counter"
    state_type = Total

    def add(self, amount: int) -> None:
        self._record(Added(amount))

    @applies(Added)
    def _added(self, state: Total, event: Added) -> Total:
        return replace(state, total=state.total + event.amount, changes=state.changes + 1)
