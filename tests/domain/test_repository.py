"""Loading with snapshots, saving with metadata, retrying on concurrent writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.access import Caller, CommandContext, Role
from event_sourcing.errors import ConcurrencyError, KeyRetired, StreamNotFound, VersionMismatch
from event_sourcing.guards import HoldsKeys, Retire
from event_sourcing.repository import Append, Backoff, Decision, EventSourcedRepository, StreamTail
from event_sourcing.testing.memory import InMemoryEventStore, ManualClock, SequentialIds
from tests.domain.counter import Counter, test_events

CONTEXT = CommandContext("corr-9", "cause-9", Caller("u7", Role.ADMIN))


class CountingStore(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[StreamTail] = []
        self.reads = 0
        self.appends = 0

    def tail(self, stream_id: str, *, window: int) -> StreamTail:
        tail = super().tail(stream_id, window=window)
        self.loaded.append(tail)
        return tail

    def read(self, stream_id: str, *, after: int = 0, up_to: int | None = None) -> list:  # type: ignore[type-arg]
        self.reads += 1
        return super().read(stream_id, after=after, up_to=up_to)

    def append(self, *appends: Append, **guards: Any) -> None:
        self.appends += 1
        super().append(*appends, **guards)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def repo(store: CountingStore) -> EventSourcedRepository:
    return EventSourcedRepository(
        store, ManualClock(), SequentialIds(), events=test_events, snapshot_every=10
    )


def grow(repo: EventSourcedRepository, times: int, per_command: int = 1) -> None:
    for _ in range(times):
        counter = repo.load(Counter, "c")
        for _ in range(per_command):
            counter.add(1)
        repo.save(counter, context=CONTEXT)


def test_saved_events_carry_their_metadata(repo: EventSourcedRepository) -> None:
    grow(repo, 1)
    (event,) = repo.history(Counter, "c")
    assert event.stream_id == "counter-c"
    assert event.type == "Added"
    assert event.schema_version == 1
    assert event.data == {"amount": 1}
    assert event.metadata.correlation_id == "corr-9"
    assert event.metadata.causation_id == "cause-9"
    assert event.metadata.user_id == "u7"
    assert event.metadata.event_id


@pytest.mark.parametrize("per_command", [1, 3, 7])
def test_loading_reads_a_bounded_tail_however_long_the_stream(
    repo: EventSourcedRepository, store: CountingStore, per_command: int
) -> None:
    grow(repo, 60, per_command)
    store.loaded.clear()
    counter = repo.load(Counter, "c")
    assert counter.state == counter.state.__class__(60 * per_command, 60 * per_command)
    (tail,) = store.loaded
    assert tail.snapshot is not None
    assert len(tail.events) < 10
    assert store.reads == 0


def test_a_snapshot_of_an_older_state_shape_is_ignored_and_replaced(
    repo: EventSourcedRepository, store: CountingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    grow(repo, 25)
    monkeypatch.setattr(Counter, "snapshot_schema", 2)
    counter = repo.load(Counter, "c")
    assert counter.state.total == 25
    assert store.reads == 1
    counter.add(1)
    repo.save(counter, context=CONTEXT)
    store.reads = 0
    assert repo.load(Counter, "c").state.total == 26
    assert store.reads == 0


def test_a_concurrent_write_is_retried_on_fresh_state(repo: EventSourcedRepository) -> None:
    grow(repo, 1)
    interfering = [True]

    def decide(counter: Counter) -> None:
        if interfering.pop() if interfering else False:
            grow(repo, 1)
        counter.add(10)

    counter = repo.transact(Counter, "c", decide, context=CONTEXT).aggregate
    assert counter.version == 3
    assert repo.load(Counter, "c").state.total == 12


def test_transact_answers_the_stored_aggregate_the_decisions_result_and_the_version(
    repo: EventSourcedRepository,
) -> None:
    grow(repo, 1)

    def decide(counter: Counter) -> Decision[int]:
        counter.add(4)
        return Decision(counter.state.total)

    outcome = repo.transact(Counter, "c", decide, context=CONTEXT)
    assert (outcome.result, outcome.version) == (5, 2)
    assert outcome.aggregate.pending == []
    assert repo.transact(Counter, "c", lambda c: None, context=CONTEXT).result is None


def test_background_events_move_the_stream_but_not_the_version_users_see(
    repo: EventSourcedRepository,
) -> None:
    grow(repo, 2)
    for _ in range(12):  # past a snapshot (every 10): the visible version survives it
        repo.transact(Counter, "c", lambda c: c.audit("mailed"), context=CONTEXT)
    loaded = repo.load(Counter, "c")
    assert (loaded.version, loaded.visible_version) == (14, 2)
    assert loaded.snapshot_version > 2
    # If-Match with the version the user was answered still holds, and is answered anew
    outcome = repo.transact(Counter, "c", lambda c: c.add(1), context=CONTEXT, expected_version=2)
    assert (outcome.version, outcome.aggregate.version) == (15, 15)
    with pytest.raises(VersionMismatch):
        repo.transact(Counter, "c", lambda c: c.add(1), context=CONTEXT, expected_version=2)


def test_a_stale_named_version_is_a_mismatch_before_anything_is_decided(
    repo: EventSourcedRepository,
) -> None:
    grow(repo, 2)
    decided: list[int] = []

    with pytest.raises(VersionMismatch) as stale:
        repo.transact(
            Counter, "c", lambda c: decided.append(1), context=CONTEXT, expected_version=1
        )
    assert (stale.value.expected, stale.value.actual) == (1, 2)
    assert decided == []


def test_a_concurrent_write_with_a_named_version_is_a_mismatch(
    repo: EventSourcedRepository,
) -> None:
    grow(repo, 1)

    def decide(counter: Counter) -> None:
        grow(repo, 1)
        counter.add(10)

    with pytest.raises(VersionMismatch) as stale:
        repo.transact(Counter, "c", decide, context=CONTEXT, expected_version=1)
    assert stale.value.actual == 2


def test_a_conflict_on_another_stream_with_a_named_version_is_decided_again(
    repo: EventSourcedRepository,
) -> None:
    grow(repo, 1)
    interfering = [True]

    def decide(counter: Counter) -> Decision[None]:
        other = repo.load(Counter, "other")
        if interfering.pop() if interfering else False:
            grow_other = repo.load(Counter, "other")
            grow_other.add(1)
            repo.save(grow_other, context=CONTEXT)
        counter.add(10)
        other.add(5)
        return Decision(also=[other])

    assert repo.transact(Counter, "c", decide, context=CONTEXT, expected_version=1).version == 2
    assert repo.load(Counter, "other").state.total == 6


def test_a_refusal_from_load_comes_before_the_version_check(
    repo: EventSourcedRepository,
) -> None:
    with pytest.raises(StreamNotFound):
        repo.transact(
            Counter,
            "missing",
            lambda c: None,
            context=CONTEXT,
            expected_version=3,
            load=lambda id: repo.get(Counter, id),
        )


class Tally(HoldsKeys, Counter):
    """Holds the key ("tally", "positive") while its total is above zero."""

    stream_prefix = "tally"

    def held_keys(self) -> frozenset[tuple[str, str]]:
        return frozenset({("tally", "positive")}) if self.state.total > 0 else frozenset()


def test_holds_are_taken_and_let_go_of_with_the_events_that_change_them(
    repo: EventSourcedRepository, store: CountingStore
) -> None:
    first, second = Tally.blank("a"), Tally.blank("b")
    first.add(1)
    second.add(2)
    repo.save(first, second, context=CONTEXT)
    assert store.holders("tally", "positive") == 2
    # Loaded again, a tally that still holds takes nothing more.
    again = repo.load(Tally, "a")
    again.add(3)
    repo.save(again, context=CONTEXT)
    assert store.holders("tally", "positive") == 2
    again.add(-4)
    repo.save(again, context=CONTEXT)
    assert store.holders("tally", "positive") == 1


def test_a_retired_key_refuses_a_new_holder_and_the_retry_decides_again(
    repo: EventSourcedRepository, store: CountingStore
) -> None:
    store.append(retire=[Retire("tally", "positive")])
    tally = Tally.blank("a")
    tally.add(1)
    with pytest.raises(KeyRetired):
        repo.save(tally, context=CONTEXT)
    assert repo.load(Tally, "a").version == 0


class FakeTime:
    """A monotonic clock that only sleeping moves; every pause is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def backoff(self, budget: float = 5.0) -> Backoff:
        return Backoff(
            first=0.01,
            longest=0.4,
            budget=budget,
            sleep=self.sleep,
            monotonic=lambda: self.now,
            jitter=lambda low, high: high,  # the top of each range: the longest waits
        )


def contended(times: int, calls: list[int]) -> Callable[[], str]:
    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise ConcurrencyError("counter-c", expected=1, actual=2)
        return "done"

    return attempt


def test_contention_is_retried_with_growing_pauses_until_the_command_gets_through(
    store: CountingStore,
) -> None:
    time = FakeTime()
    repo = EventSourcedRepository(store, ManualClock(), SequentialIds(), backoff=time.backoff())
    calls: list[int] = []

    assert repo.run(contended(7, calls)) == "done"
    assert len(calls) == 8
    assert time.pauses == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.4]


def test_pauses_are_jittered_below_their_ceiling(store: CountingStore) -> None:
    drawn: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        drawn.append((low, high))
        return low

    backoff = Backoff(sleep=lambda seconds: None, jitter=jitter)
    repo = EventSourcedRepository(store, ManualClock(), SequentialIds(), backoff=backoff)

    repo.run(contended(3, []))

    assert drawn == [(0.0, 0.01), (0.0, 0.02), (0.0, 0.04)]


def test_endless_contention_gives_up_once_its_time_budget_is_spent(
    store: CountingStore,
) -> None:
    time = FakeTime()
    repo = EventSourcedRepository(
        store, ManualClock(), SequentialIds(), backoff=time.backoff(budget=2.0)
    )
    calls: list[int] = []

    with pytest.raises(ConcurrencyError):
        repo.run(contended(10_000, calls))
    assert sum(time.pauses) < 2.0
    assert sum(time.pauses) + 0.4 >= 2.0  # it used the budget, not a fixed count of tries


def test_saving_nothing_writes_nothing(repo: EventSourcedRepository, store: CountingStore) -> None:
    repo.save(repo.load(Counter, "c"), context=CONTEXT)
    assert store.appends == 0


def test_the_budget_is_what_the_invocation_has_left_when_that_is_known(
    store: CountingStore,
) -> None:
    time = FakeTime()
    left = [1.5, 3.0]
    backoff = Backoff(
        time_left=lambda: left.pop(0),
        sleep=time.sleep,
        monotonic=lambda: time.now,
        jitter=lambda low, high: high,
    )
    repo = EventSourcedRepository(store, ManualClock(), SequentialIds(), backoff=backoff)

    with pytest.raises(ConcurrencyError):
        repo.run(contended(10_000, []))
    first = sum(time.pauses)
    time.pauses.clear()
    with pytest.raises(ConcurrencyError):
        repo.run(contended(10_000, []))

    assert 1.1 <= first < 1.5  # each command asks anew: this one had 1.5 s left
    assert 2.6 <= sum(time.pauses) < 3.0
