"""Generations fenced by time, not by a per-commit check of the pointer: projectors keep the
generations they read for a lease; a rebuild waits that out (its fence) after each change of
the active generations. Worst-case writers here never read the pointer again: whatever they
write after a change is either rebuilt over, or lands where no reader reads and is dropped."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

import pytest

from event_sourcing.generations import Pointer
from event_sourcing.projector import Generation, Projector, Projectors
from event_sourcing.rebuild import Progress, Rebuild
from event_sourcing.repository import Append
from event_sourcing.testing.memory import (
    InMemoryEventStore,
    InMemoryGenerations,
    InMemoryViewStore,
    ManualClock,
)
from event_sourcing.views import ViewKey, ViewReader
from tests.domain.counter import test_events
from tests.domain.test_projector import Totals, history

RETIRE_DELAY = 15.0
FENCE = 65.0


class Shop:
    """One projection (running totals per counter), its generations, and the readers' and
    projectors' ways of finding them."""

    def __init__(self) -> None:
        self.events = InMemoryEventStore()
        self.views = InMemoryViewStore()
        self.generations = InMemoryGenerations(self.views)
        self.clock = ManualClock()
        self.waits: list[str] = []
        self.during_wait: dict[str, Callable[[], None]] = {}
        for stream, amounts in {"counter-a": [1, 2], "counter-b": [10]}.items():
            self.events.append(Append(stream, 0, history(stream, amounts)))
        first = Projectors.first_generation(
            [Totals()], self.events, self.views, registry=test_events
        )
        for stream_id in self.events.stream_ids():
            first.catch_up(stream_id)

    def pointer(self) -> Pointer:
        return self.generations.read([Totals()])["totals"]

    def reader(self) -> ViewReader:
        """What a query reads once its cached pointer is fresh: the live generation."""
        return self.views.scoped(self.pointer().live.prefix)

    def writer_of(self, *generations: Generation) -> Projectors:
        """A projector holding `generations` and never reading the pointer again."""
        targets = [
            Projector(Totals(), self.events, self.views.scoped(g.prefix), registry=test_events)
            for g in generations
        ]
        return Projectors(self.events, lambda: targets)

    def add(self, stream: str, amount: int) -> None:
        from event_sourcing.testing.builders import recorded

        version = len(self.events.read(stream)) + 1
        self.events.append(
            Append(stream, version - 1, [recorded(stream, version, "Added", {"amount": amount})])
        )

    def wait(self, seconds: float) -> None:
        why = self.waits[-1]
        self.clock.advance(seconds)
        action = self.during_wait.pop(why, None)
        if action is not None:
            action()

    def rebuild(self) -> Rebuild:
        return Rebuild(
            Totals(),
            self.generations,
            self.events,
            self.views,
            self.clock,
            retire_delay=RETIRE_DELAY,
            fence=FENCE,
            wait=self.wait,
            progress=Progress(phase=lambda text: self.waits.append(text)),
            registry=test_events,
        )


def total(views: ViewReader, stream: str) -> int:
    doc = views.get(ViewKey(stream))
    return int(doc["total"]) if doc else 0


def test_an_event_applied_to_the_old_generations_only_during_the_fence_is_built_into_the_new() -> (
    None
):
    shop = Shop()
    stale = shop.writer_of(shop.pointer().live)  # read before the rebuild began

    def late_commit() -> None:
        shop.add("counter-a", 100)
        (latest,) = shop.events.read("counter-a", after=2)
        stale.project(latest)

    shop.during_wait["waiting 65 s for projectors"] = late_commit
    report = shop.rebuild().run()

    assert report.generation == 2
    assert shop.pointer().live.number == 2
    assert total(shop.reader(), "counter-a") == 103


def test_a_late_write_of_a_retired_generation_is_never_visible_to_a_reader_after_the_switch() -> (
    None
):
    shop = Shop()
    retired = shop.pointer().live
    stale = shop.writer_of(retired)  # never learns of the rebuild
    seen: list[int] = []

    def late_commit() -> None:
        # The old generation is retired; a late projector still writes it (a new event,
        # which the live generation's own projectors apply too).
        shop.add("counter-b", 5)
        (latest,) = shop.events.read("counter-b", after=1)
        stale.project(latest)
        assert total(shop.views.scoped(retired.prefix), "counter-b") == 15
        seen.append(total(shop.reader(), "counter-b"))

    shop.during_wait["waiting 65 s for projectors of the old generation"] = late_commit
    shop.rebuild().run()

    assert seen == [10], "readers resolve the live generation: the late write is not there"
    pointer = shop.pointer()
    assert (pointer.live.number, pointer.retiring, pointer.dropping) == (2, None, None)
    leftovers = [k for k in shop.views.documents() if k.collection.startswith(retired.prefix)]
    assert leftovers == [], "the late write was dropped with its generation"


def test_the_old_generation_is_dropped_only_a_fence_after_it_was_retired() -> None:
    shop = Shop()
    shop.rebuild().run()
    waits = [w for w in shop.waits if w.startswith("waiting")]
    assert waits == [
        "waiting 65 s for projectors",
        "waiting 15 s for readers of the old generation",
        "waiting 65 s for projectors of the old generation",
    ]
    assert shop.waits.index("dropping generation 1") > shop.waits.index(waits[-1])


def test_a_fence_that_can_be_seen_ends_when_the_projectors_let_go_not_after_its_time() -> None:
    shop = Shop()
    asked: list[float] = []

    def released(changed: datetime) -> bool:
        """The projectors let go 2 s after a change (their lease, their batch in flight)."""
        waited = (shop.clock.now() - changed).total_seconds()
        asked.append(waited)
        return waited >= 2

    rebuild = dataclasses.replace(shop.rebuild(), released=released)
    report = rebuild.run()

    assert report.fences_released == 2
    assert max(asked) < 3, "neither fence waited its 65 s"
    assert shop.pointer().dropping is None
    assert total(shop.reader(), "counter-a") == 3


def test_a_fence_whose_projectors_never_let_go_still_ends_after_its_time() -> None:
    shop = Shop()
    rebuild = dataclasses.replace(shop.rebuild(), released=lambda changed: False)
    report = rebuild.run()
    assert report.fences_released == 0
    assert shop.pointer().dropping is None


def test_a_rebuild_that_stopped_before_its_drop_drops_when_run_again() -> None:
    shop = Shop()

    class Stopped(Exception):
        pass

    def stop() -> None:
        raise Stopped

    shop.during_wait["waiting 65 s for projectors of the old generation"] = stop
    with pytest.raises(Stopped):
        shop.rebuild().run()
    stopped = shop.pointer()
    assert stopped.dropping is not None
    assert stopped.dropping.number == 1
    assert stopped.next_number() == 3, "a generation left to drop is never built over"

    report = shop.rebuild().run()

    assert report.generation == 3
    documents = shop.views.documents()
    assert not [k for k in documents if k.collection.startswith("totals.1|")]
    assert not [k for k in documents if k.collection.startswith("totals.2|")]
    assert total(shop.reader(), "counter-a") == 3


def test_projectors_read_the_generations_again_once_their_lease_ran_out() -> None:
    now = [0.0]
    loads: list[float] = []

    def load() -> list[Projector]:
        loads.append(now[0])
        return []

    projectors = Projectors(InMemoryEventStore(), load, lease=lambda: 5.0, monotonic=lambda: now[0])
    for moment in (0.0, 1.0, 4.9, 5.0, 6.0, 10.1):
        now[0] = moment
        projectors.targets()
    assert loads == [0.0, 5.0, 10.1]
