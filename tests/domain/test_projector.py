"""The projector on fakes: duplicates, reordering, gaps and poison change nothing they
should not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_sourcing.events import DomainEvent, RecordedEvent
from event_sourcing.projector import Projection, Projector
from event_sourcing.testing.builders import recorded
from event_sourcing.testing.memory import InMemoryEventStore, InMemoryViewStore
from event_sourcing.views import Change, Put, ViewKey, ViewReader
from tests.domain.counter import Added, Counter, test_events


class Totals(Projection):
    """A running total per stream: order-sensitive (it keeps the sequence of amounts)."""

    name = "totals"

    def __init__(self, poison: int | None = None) -> None:
        self.poison = poison

    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]:
        assert isinstance(event, Added)
        if event.amount == self.poison:
            raise ValueError("poison")
        key = ViewKey(recorded.stream_id)
        doc = views.get(key) or {"total": 0, "amounts": []}
        return [
            Put(
                key,
                {
                    "total": doc["total"] + event.amount,
                    "amounts": [*doc["amounts"], event.amount],
                    "version": recorded.version,
                },
            )
        ]


def history(stream: str, amounts: list[int]) -> list[RecordedEvent]:
    return [recorded(stream, v, "Added", {"amount": a}) for v, a in enumerate(amounts, start=1)]


def setup(
    streams: dict[str, list[int]], poison: int | None = None
) -> tuple[Projector, InMemoryViewStore, list[RecordedEvent]]:
    store = InMemoryEventStore()
    records = []
    from event_sourcing.repository import Append

    for stream, amounts in streams.items():
        events = history(stream, amounts)
        store.append(Append(stream, 0, events))
        records += events
    views = InMemoryViewStore()
    projector = Projector(Totals(poison), store, views, registry=test_events)
    return projector, views, records


STREAMS = {"counter-a": [1, 2, 3, 4], "counter-b": [10, 20, 30]}


def rebuilt() -> dict[ViewKey, dict[str, object]]:
    projector, views, records = setup(STREAMS)
    for record in records:
        projector.project(record)
    return views.documents()


def test_in_order_delivery_builds_the_views() -> None:
    docs = rebuilt()
    assert docs[ViewKey("counter-a")] == {"total": 10, "amounts": [1, 2, 3, 4], "version": 4}
    assert docs[ViewKey("counter-b")]["amounts"] == [10, 20, 30]


def test_a_duplicate_changes_nothing() -> None:
    projector, views, records = setup(STREAMS)
    for record in records:
        projector.project(record)
    before = views.documents()
    outcome = projector.project(records[1])
    assert outcome.duplicate
    assert views.documents() == before


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_delivery_order_with_duplicates_gives_what_a_rebuild_gives(data: st.DataObject) -> None:
    projector, views, records = setup(STREAMS)
    deliveries = data.draw(st.lists(st.sampled_from(records), max_size=20))
    for record in deliveries:
        projector.project(record)
    for record in records:  # whatever came before, everything is delivered at least once
        projector.project(record)
    assert views.documents() == rebuilt()


def test_a_withheld_record_is_filled_from_the_event_table() -> None:
    projector, views, records = setup({"counter-a": [1, 2, 3, 4]})
    outcome = projector.project(records[3])
    assert outcome.applied == (1, 2, 3, 4)
    assert views.documents()[ViewKey("counter-a")]["amounts"] == [1, 2, 3, 4]
    assert views.position("counter-a") == 4


def test_a_poison_event_blocks_its_stream_and_skips_nothing() -> None:
    projector, views, records = setup({"counter-a": [1, 2, 666, 4], "counter-b": [5]}, poison=666)
    projector.project(records[0])
    projector.project(records[1])
    with pytest.raises(ValueError, match="poison"):
        projector.project(records[2])
    with pytest.raises(ValueError, match="poison"):
        projector.project(records[3])  # the gap fill reaches the poison again: not skipped
    assert views.position("counter-a") == 2
    assert views.documents()[ViewKey("counter-a")]["amounts"] == [1, 2]
    projector.project(records[4])  # other streams go on
    assert views.position("counter-b") == 1


def test_the_position_moves_with_the_changes_or_not_at_all() -> None:
    from event_sourcing.views import PositionMoved

    views = InMemoryViewStore()
    views.commit("s", from_version=0, to_version=2, changes=[Put(ViewKey("x"), {"a": 1})])
    with pytest.raises(PositionMoved):
        views.commit("s", from_version=0, to_version=1, changes=[Put(ViewKey("x"), {"a": 2})])
    assert views.get(ViewKey("x")) == {"a": 1}
    assert views.position("s") == 2


def test_counter_aggregate_and_projection_agree() -> None:
    counter = Counter.blank("a")
    for amount in STREAMS["counter-a"]:
        counter.add(amount)
    assert rebuilt()[ViewKey("counter-a")]["total"] == counter.state.total


def test_increments_of_one_key_in_one_batch_add_up() -> None:
    from event_sourcing.projector import _Staged
    from event_sourcing.views import Increment

    staged = _Staged(InMemoryViewStore())
    staged.stage([Increment(ViewKey("c"), {"n": 1}), Increment(ViewKey("c"), {"n": 2, "m": 1})])
    assert staged.changes() == [Increment(ViewKey("c"), {"n": 3, "m": 1})]
    with pytest.raises(ValueError, match="both"):
        staged.stage([Put(ViewKey("c"), {})])


def test_a_writer_that_moved_the_position_meanwhile_makes_the_projector_decide_again() -> None:
    """A redrive applied the record while the stream's delivery of it was in flight: the
    delivery meets a moved position, reads it again and finds a duplicate."""
    projector, views, records = setup({"counter-a": [1, 2]})
    commit = views.commit
    raced: list[bool] = []

    def racing_commit(stream_id: str, **kwargs: Any) -> None:
        if not raced:
            raced.append(True)
            commit(stream_id, **kwargs)  # the other writer lands first
        commit(stream_id, **kwargs)

    views.commit = racing_commit  # type: ignore[method-assign]
    projector.project(records[0])
    assert views.position("counter-a") == 1
    assert views.documents()[ViewKey("counter-a")]["amounts"] == [1]
