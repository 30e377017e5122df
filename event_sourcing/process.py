"""Process managers: a stream's next step, done once per event, however often it comes.

A process manager follows streams (`Processes` routes each event to the one that follows
its stream). For every event, redelivered or not, it loads the stream's aggregate and does
the one step its state calls for (`next_step`), recording the outcome on it, all under
`transact`: a completed step is in the state and is never done again, and a concurrent
write makes it decide again on fresh state. A step that calls the outside world passes an
idempotency key derived from the stream, so a crash between the call and the record calls
again without a second effect (send-once)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from event_sourcing.aggregate import Aggregate
from event_sourcing.repository import Decision, EventSourcedRepository

A = TypeVar("A", bound=Aggregate[Any])
R = TypeVar("R")


@dataclass(frozen=True)
class Cause:
    """What a process records its steps under: the triggering event's correlation id, and
    the event itself as their cause."""

    correlation_id: str
    causation_id: str
    user_id: str | None = None


class ProcessManager(ABC, Generic[A, R]):
    """Does the next step of one kind of aggregate, once."""

    aggregate: type[A]

    def __init__(self, repository: EventSourcedRepository) -> None:
        self.repository = repository

    @abstractmethod
    def next_step(self, aggregate: A) -> Decision[R] | None:
        """Do the step the aggregate's state calls for and record it on the aggregate;
        answer it as the decision's result (None: nothing is due)."""

    def handle(
        self,
        aggregate_id: str,
        event_version: int,
        /,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> R | None:
        """Do the aggregate's next step, if any, and answer it.

        `event_version` is the triggering event's: the step decides on the current state
        whatever it is (a redelivered old event is as good as the newest), and names that
        event as the cause of what it records unless the event's own ids are given."""
        stream_id = self.aggregate.stream_id_of(aggregate_id)
        cause = Cause(correlation_id or stream_id, causation_id or f"{stream_id}@{event_version}")
        return self.repository.transact(
            self.aggregate, aggregate_id, self.next_step, context=cause
        ).result


class Processes:
    """The process managers of one stream reader, each by the stream prefix it follows
    (`<prefix><aggregate id>`), built on first use."""

    def __init__(self, by_prefix: Mapping[str, Callable[[], ProcessManager[Any, Any]]]) -> None:
        self._by_prefix = dict(by_prefix)

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(self._by_prefix)

    def handle(
        self,
        stream_id: str,
        event_version: int,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> str | None:
        """Run the process `stream_id` belongs to; answers the step done, if any."""
        for prefix, process in self._by_prefix.items():
            if stream_id.startswith(prefix):
                step = process().handle(
                    stream_id.removeprefix(prefix),
                    event_version,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                )
                return None if step is None else str(step)
        raise ValueError(f"no process follows stream {stream_id!r}: it follows {self.prefixes}")
