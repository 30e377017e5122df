"""The kit's process managers: the next step of a stream, once per event however often the
event comes, recorded under the triggering event as its cause."""

from __future__ import annotations

import pytest

from event_sourcing.process import (
    Cause,
    DueWork,
    Processes,
    ProcessManager,
    Progress,
    Reach,
    WorkQueue,
)
from event_sourcing.repository import Decision, EventSourcedRepository
from event_sourcing.testing.memory import InMemoryEventStore, ManualClock, SequentialIds
from tests.domain.counter import Counter, test_events


class TopUp(ProcessManager[Counter, str]):
    """Tops a counter up to 10, once: the step is due while the total is below 10."""

    aggregate = Counter

    def __init__(self, repository: EventSourcedRepository) -> None:
        super().__init__(repository)
        self.calls = 0

    def next_step(self, counter: Counter) -> Decision[str] | None:
        if counter.state.total >= 10:
            return None
        self.calls += 1
        counter.add(10 - counter.state.total)
        return Decision("topped up")


@pytest.fixture
def repo() -> EventSourcedRepository:
    return EventSourcedRepository(
        InMemoryEventStore(), ManualClock(), SequentialIds(), events=test_events
    )


def test_a_step_is_done_once_however_often_its_event_comes(repo: EventSourcedRepository) -> None:
    counter = repo.load(Counter, "c")
    counter.add(3)
    repo.save(counter, context=Cause("corr", "cause"))
    process = TopUp(repo)

    assert process.handle("c", 1) == "topped up"
    assert process.handle("c", 1) is None  # redelivered: nothing is due any more
    assert process.calls == 1
    assert repo.load(Counter, "c").state.total == 10


def test_a_step_names_the_triggering_event_as_its_cause(repo: EventSourcedRepository) -> None:
    for id in ("a", "b"):
        counter = repo.load(Counter, id)
        counter.add(1)
        repo.save(counter, context=Cause("corr", "cause"))
    TopUp(repo).handle("a", 1)
    TopUp(repo).handle("b", 1, correlation_id="corr-9", causation_id="event-7")

    a, b = (repo.history(Counter, id)[1].metadata for id in ("a", "b"))
    assert (a.correlation_id, a.causation_id) == ("counter-a", "counter-a@1")
    assert (b.correlation_id, b.causation_id) == ("corr-9", "event-7")


def test_processes_route_a_stream_to_the_process_that_follows_it(
    repo: EventSourcedRepository,
) -> None:
    process = TopUp(repo)
    processes = Processes({"counter-": lambda: process})

    assert processes.handle("counter-c", 1) == "topped up"
    with pytest.raises(ValueError, match="no process follows stream 'order-1'"):
        processes.handle("order-1", 1)


class CallingTopUp(TopUp):
    """The same step, calling the outside world (a provider): the queue's to do."""

    def outside(self, counter: Counter) -> str | None:
        return "topped up" if counter.state.total < 10 else None


class Sent(WorkQueue):
    def __init__(self) -> None:
        self.sent: list[DueWork] = []

    def send(self, work: DueWork) -> None:
        self.sent.append(work)


def test_a_stream_reader_leaves_an_outside_step_to_the_queue(
    repo: EventSourcedRepository,
) -> None:
    counter = repo.load(Counter, "c")
    counter.add(3)
    repo.save(counter, context=Cause("corr", "cause"))
    process = CallingTopUp(repo)
    processes = Processes({"counter-": lambda: process})
    queue = Sent()

    progress = processes.step_in_store(
        "counter-c", 1, correlation_id="corr", causation_id="evt-1", queue=queue
    )
    assert progress == Progress(done=None, due="topped up")
    assert process.calls == 0
    assert repo.load(Counter, "c").version == 1  # nothing recorded
    (work,) = queue.sent
    assert work == DueWork("counter-c", "topped up", 1, "corr", "evt-1")
    assert DueWork.from_dict(work.as_dict()) == work

    assert processes.call_out(work) == ["topped up"]
    assert processes.call_out(work) == []  # the message again: nothing is due
    assert process.calls == 1
    assert repo.history(Counter, "c")[-1].metadata.causation_id == "evt-1"


def test_the_queue_does_no_step_of_the_stores(repo: EventSourcedRepository) -> None:
    counter = repo.load(Counter, "c")
    counter.add(3)
    repo.save(counter, context=Cause("corr", "cause"))
    process = TopUp(repo)  # its step only writes the store
    assert process.advance("c", 1, reach=Reach.OUTSIDE) == Progress()
    assert process.calls == 0
    assert process.advance("c", 1, reach=Reach.STORE) == Progress(done="topped up")


def test_a_due_work_message_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="not a due-work message"):
        DueWork.from_dict({"stream_id": "order-1"})
