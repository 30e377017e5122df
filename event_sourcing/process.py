"""Process managers: a stream's next step, done once per event, however often it comes.

A process manager follows streams (`Processes` routes each event to the one that follows
its stream). For every event, redelivered or not, it loads the stream's aggregate and does
the one step its state calls for (`next_step`), recording the outcome on it, all under
`transact`: a completed step is in the state and is never done again, and a concurrent
write makes it decide again on fresh state. A step that calls the outside world passes an
idempotency key derived from the stream, so a crash between the call and the record calls
again without a second effect (send-once).

Steps that call the outside world leave the stream loop (`Reach`): a stream reader runs
only the steps that write the store (`Reach.STORE`) and, when the state calls for an
outside step, answers it as `due` without doing it, for a queue (`WorkQueue`) to run;
the queue's consumer runs the outside steps (`Reach.OUTSIDE`). The event that made the
step due is what records it, once (the store's exactly-once append); the message that
carries it may come twice, and finds nothing due the second time."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from event_sourcing.repository import Aggregate, Decision, EventSourcedRepository

A = TypeVar("A", bound=Aggregate[Any])
R = TypeVar("R")

MAX_OUTSIDE_STEPS = 8
"""Outside steps one message may do in a row (an order has at most four: charge or
settle, refund, email)."""


@dataclass(frozen=True)
class Cause:
    """What a process records its steps under: the triggering event's correlation id, and
    the event itself as their cause."""

    correlation_id: str
    causation_id: str
    user_id: str | None = None


class Reach(StrEnum):
    """Which steps a caller of `ProcessManager.advance` may do."""

    ALL = "all"
    """Every step (an operator's redrive, tests)."""
    STORE = "store"
    """Only steps that write the store: a stream shard never waits on a provider."""
    OUTSIDE = "outside"
    """Only steps that call the outside world (the queue's consumer)."""


@dataclass(frozen=True)
class Progress(Generic[R]):
    """What one call did: the step done (if any), and the outside step the state calls for
    that this reach left undone (only `Reach.STORE` leaves one)."""

    done: R | None = None
    due: R | None = None


@dataclass(frozen=True)
class DueWork:
    """An outside step a stream's state calls for: what a `WorkQueue` carries."""

    stream_id: str
    step: str
    version: int
    """The version of the stream whose state called for it (for the logs; the consumer
    decides on the state it reads)."""
    correlation_id: str
    causation_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "step": self.step,
            "version": self.version,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DueWork:
        try:
            return cls(
                str(raw["stream_id"]),
                str(raw["step"]),
                int(raw["version"]),
                str(raw["correlation_id"]),
                str(raw["causation_id"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a due-work message: {error!r} in {dict(raw)!r}") from None


class WorkQueue(ABC):
    """Where a stream reader hands the outside steps it leaves undone (at least once)."""

    @abstractmethod
    def send(self, work: DueWork) -> None:
        """Queue `work`; raises if it may not be queued (the reader then retries)."""


class ProcessManager(ABC, Generic[A, R]):
    """Does the next step of one kind of aggregate, once."""

    aggregate: type[A]

    def __init__(self, repository: EventSourcedRepository) -> None:
        self.repository = repository

    @abstractmethod
    def next_step(self, aggregate: A) -> Decision[R] | None:
        """Do the step the aggregate's state calls for and record it on the aggregate;
        answer it as the decision's result (None: nothing is due)."""

    def outside(self, aggregate: A) -> R | None:
        """The step the state calls for, if that step calls the outside world (a payment
        provider, a mailer); None if what is due (if anything) only writes the store."""
        return None

    def advance(
        self,
        aggregate_id: str,
        event_version: int,
        /,
        *,
        reach: Reach,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Progress[R]:
        """Do the aggregate's next step if `reach` allows it (recorded as `handle` does);
        else record nothing and answer the outside step left `due` (Reach.STORE) or
        nothing (Reach.OUTSIDE: the store's steps are the stream's to do)."""

        def decide(aggregate: A) -> Decision[Progress[R]]:
            due = self.outside(aggregate)
            if reach is Reach.STORE and due is not None:
                return Decision(Progress(due=due))
            if reach is Reach.OUTSIDE and due is None:
                return Decision(Progress())
            decision = self.next_step(aggregate)
            if decision is None:
                return Decision(Progress())
            return Decision(
                Progress(done=decision.result),
                also=decision.also,
                claims=decision.claims,
                retire=decision.retire,
            )

        stream_id = self.aggregate.stream_id_of(aggregate_id)
        cause = Cause(correlation_id or stream_id, causation_id or f"{stream_id}@{event_version}")
        progress = self.repository.transact(
            self.aggregate, aggregate_id, decide, context=cause
        ).result
        return progress if progress is not None else Progress()

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
        return self.advance(
            aggregate_id,
            event_version,
            reach=Reach.ALL,
            correlation_id=correlation_id,
            causation_id=causation_id,
        ).done


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
        """Run the process `stream_id` belongs to, every step; answers the step done, if any."""
        return self.advance(
            stream_id,
            event_version,
            reach=Reach.ALL,
            correlation_id=correlation_id,
            causation_id=causation_id,
        ).done

    def advance(
        self,
        stream_id: str,
        event_version: int,
        *,
        reach: Reach,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Progress[str]:
        """One call of `ProcessManager.advance` on the process `stream_id` belongs to."""
        prefix, process = self._follower(stream_id)
        progress = process().advance(
            stream_id.removeprefix(prefix),
            event_version,
            reach=reach,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return Progress(
            None if progress.done is None else str(progress.done),
            None if progress.due is None else str(progress.due),
        )

    def step_in_store(
        self,
        stream_id: str,
        event_version: int,
        *,
        correlation_id: str,
        causation_id: str,
        queue: WorkQueue,
        send: bool = True,
    ) -> Progress[str]:
        """What a stream reader does per event: the store's step, if one is due; an
        outside step due is sent to `queue` instead (again for a redelivered event: the
        consumer finds it done). `send=False` leaves the sending to a later event of the
        same stream that the reader is sure to handle (the last of its batch)."""
        progress = self.advance(
            stream_id,
            event_version,
            reach=Reach.STORE,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        if progress.due is not None and send:
            queue.send(
                DueWork(stream_id, progress.due, event_version, correlation_id, causation_id)
            )
        return progress

    def call_out(self, work: DueWork, *, max_steps: int = MAX_OUTSIDE_STEPS) -> list[str]:
        """What the queue's consumer does per message: every outside step due now, one
        after another (a refund, then its email), each recorded before the next; nothing
        if none is due (a redelivered message, or the stream's step comes first).
        Answers the steps done."""
        done: list[str] = []
        for _ in range(max_steps):
            progress = self.advance(
                work.stream_id,
                work.version,
                reach=Reach.OUTSIDE,
                correlation_id=work.correlation_id,
                causation_id=work.causation_id,
            )
            if progress.done is None:
                return done
            done.append(progress.done)
        raise RuntimeError(f"{work.stream_id} took more than {max_steps} outside steps in a row")

    def _follower(self, stream_id: str) -> tuple[str, Callable[[], ProcessManager[Any, Any]]]:
        for prefix, process in self._by_prefix.items():
            if stream_id.startswith(prefix):
                return prefix, process
        raise ValueError(f"no process follows stream {stream_id!r}: it follows {self.prefixes}")
