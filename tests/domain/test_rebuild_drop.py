"""The last step of a blue/green rebuild (event_sourcing/rebuild.py): the old generation is
dropped once the projector has passed the switch, a condition looked at, not a fixed
time; and not before the delay its query readers need (`retire_delay`), which several
rebuilds can spend at once (`run(drop=False)`, then `finish()`)."""

from __future__ import annotations

from datetime import datetime

import pytest

from event_sourcing import rebuild as rebuilding
from event_sourcing.rebuild import SETTLE_POLL_SECONDS, Progress, Rebuild
from event_sourcing.testing.generations_contract import CatalogViews
from event_sourcing.testing.memory import (
    InMemoryEventStore,
    InMemoryGenerations,
    InMemoryViewStore,
    ManualClock,
)


class Waits:
    """The rebuild's sleeps, each moving the clock instead."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.clock.advance(seconds)


def rebuild_with(
    retire_delay: float, passed_switch: object, phases: list[str] | None = None
) -> tuple[Rebuild, Waits, InMemoryGenerations]:
    clock = ManualClock()
    views = InMemoryViewStore()
    generations = InMemoryGenerations(views)
    waits = Waits(clock)
    said = phases if phases is not None else []
    rebuild = Rebuild(
        CatalogViews(),
        generations,
        InMemoryEventStore(),
        views,
        clock,
        retire_delay=retire_delay,
        fence=0,
        segments=1,
        wait=waits,
        progress=Progress(phase=said.append),
        passed_switch=passed_switch,  # type: ignore[arg-type]
    )
    return rebuild, waits, generations


def test_the_old_generation_is_dropped_as_soon_as_the_projector_has_passed_the_switch() -> None:
    looks: list[datetime] = []

    def passed(switched_at: datetime) -> bool:
        looks.append(switched_at)
        return len(looks) > 3

    rebuild, waits, generations = rebuild_with(0, passed)
    switch = rebuild.clock.now()

    report = rebuild.run()

    assert waits.asked == [SETTLE_POLL_SECONDS] * 3, "looked at, not a fixed time"
    assert set(looks) == {switch}
    pointer = generations.read([CatalogViews()])["catalog"]
    assert (pointer.live.number, pointer.retiring, report.replaced) == (2, None, 1)


def test_the_query_readers_delay_is_kept_and_the_projector_looked_at_after_it() -> None:
    rebuild, waits, _ = rebuild_with(15, lambda switched_at: True)

    rebuild.run()

    assert waits.asked == [15]


def test_a_rebuild_run_without_its_drop_leaves_the_old_generation_retiring_until_finish() -> None:
    rebuild, waits, generations = rebuild_with(15, lambda switched_at: True)

    report = rebuild.run(drop=False)
    assert generations.read([CatalogViews()])["catalog"].retiring is not None
    assert waits.asked == []

    waits.clock.advance(10)  # another projection built meanwhile
    rebuild.finish(report)
    assert waits.asked == [5], "only what is left of the readers' delay"
    assert generations.read([CatalogViews()])["catalog"].retiring is None


def test_a_projector_that_does_not_pass_the_switch_holds_the_drop_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rebuilding, "SETTLE_TIMEOUT_SECONDS", -1.0)
    phases: list[str] = []
    rebuild, _, generations = rebuild_with(0, lambda switched_at: False, phases)

    rebuild.run()

    assert "the projector has not passed the switch (see `status`)" in phases
    assert generations.read([CatalogViews()])["catalog"].retiring is None
