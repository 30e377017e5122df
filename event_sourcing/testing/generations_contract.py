"""The contract every generations registry passes: the in-memory fake, DynamoDB, and
DynamoDB losing every ack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from event_sourcing.events import DomainEvent, RecordedEvent
from event_sourcing.generations import DONE, Generations, Pointer, PointerMoved
from event_sourcing.projector import Projection
from event_sourcing.views import Change, Put, ViewKey, ViewReader, ViewStore

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass
class World:
    """The views and the generations registry that keeps its pointers beside them."""

    views: ViewStore
    generations: Generations


class _Named(Projection):
    """A projection that only has a name (the registry reads names and versions)."""

    version = 1

    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]:
        return []


class CatalogViews(_Named):
    name: ClassVar[str] = "catalog"


class OrderingViews(_Named):
    name: ClassVar[str] = "ordering"
    version = 2


class GenerationsContract:
    """What every `Generations` keeps: pointers written over the epoch they were read at only,
    switches, retirements, and drops of one generation's views and positions.

    Subclass it in a test module with a `world` fixture that yields the adapters under
    test (a `World` of views and generations), once per variant (the fake, DynamoDB,
    DynamoDB losing every ack)."""

    def test_a_fresh_table_reads_generation_one_of_each_projection(self, world: World) -> None:
        pointers = world.generations.read([CatalogViews(), OrderingViews()])
        assert pointers["catalog"] == Pointer.initial(CatalogViews())
        assert pointers["catalog"].live.prefix == "catalog.1|"
        assert pointers["ordering"].active() == [pointers["ordering"].live]
        assert pointers["catalog"].epoch == 0

    def test_a_pointer_is_written_over_the_epoch_it_was_read_at_only(self, world: World) -> None:
        read = world.generations.read([CatalogViews()])["catalog"]
        begun = read.begun(2, AT)
        world.generations.save(begun, read_at=read.epoch)
        again = world.generations.read([CatalogViews()])["catalog"]
        assert again == begun
        assert again.building is not None
        assert (again.building.number, again.building.version, again.epoch) == (2, 2, 1)
        with pytest.raises(PointerMoved):
            world.generations.save(read.begun(3, AT), read_at=read.epoch)
        progressed = Pointer(**{**again.__dict__, "checkpoint": {"0": DONE, "1": "token"}})
        world.generations.save(progressed, read_at=again.epoch)
        assert world.generations.read([CatalogViews()])["catalog"].checkpoint == {
            "0": DONE,
            "1": "token",
        }

    def test_a_switch_makes_the_built_generation_live_and_keeps_the_old_one_active(
        self,
        world: World,
    ) -> None:
        read = world.generations.read([CatalogViews()])["catalog"]
        begun = read.begun(1, AT)
        world.generations.save(begun, read_at=read.epoch)
        switched = begun.switched(AT)
        world.generations.save(switched, read_at=begun.epoch)
        stored = world.generations.read([CatalogViews()])["catalog"]
        assert (stored.live.number, stored.building, stored.retiring) == (2, None, read.live)
        assert [g.number for g in stored.active()] == [2, 1]
        world.generations.save(stored.retired(), read_at=stored.epoch)
        assert world.generations.read([CatalogViews()])["catalog"].active() == [stored.live]

    def test_dropping_a_generation_deletes_its_views_and_positions_only(self, world: World) -> None:
        old, new = world.views.scoped("catalog.1|"), world.views.scoped("catalog.2|")
        other = world.views.scoped("ordering.1|")
        for store in (old, new, other):
            changes = [Put(ViewKey(f"search#tri#{n:03}", "x"), {"n": n}) for n in range(30)]
            store.commit("product-1", from_version=0, to_version=1, changes=changes)
        dropped = world.generations.drop(Pointer.initial(CatalogViews()).live)
        assert dropped == 31  # 30 documents and one position
        assert old.get(ViewKey("search#tri#000", "x")) is None
        assert old.position("product-1") == 0
        assert new.get(ViewKey("search#tri#029", "x")) == {"n": 29}
        assert other.position("product-1") == 1

    def test_a_retired_generation_is_kept_for_dropping_and_its_number_never_reused(
        self, world: World
    ) -> None:
        read = world.generations.read([CatalogViews()])["catalog"]
        begun = read.begun(1, AT)
        world.generations.save(begun, read_at=read.epoch)
        switched = begun.switched(AT)
        world.generations.save(switched, read_at=begun.epoch)
        retired = switched.retired(drop_after=AT)
        world.generations.save(retired, read_at=switched.epoch)
        stored = world.generations.read([CatalogViews()])["catalog"]
        assert stored == retired
        assert (stored.dropping, stored.drop_after) == (read.live, AT)
        assert [g.number for g in stored.active()] == [2]
        assert stored.next_number() == 3
        world.generations.save(stored.dropped(), read_at=stored.epoch)
        assert world.generations.read([CatalogViews()])["catalog"].dropping is None
