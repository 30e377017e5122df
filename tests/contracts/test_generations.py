"""One contract for the generation pointers: the in-memory fake and the views table (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.catalog.views import CatalogViews
from domain.ordering.views import OrderingViews
from event_sourcing.generations import DONE, Generations, Pointer, PointerMoved
from event_sourcing.views import Put, ViewKey, ViewStore
from tests.fakes.memory import InMemoryGenerations, InMemoryViewStore
from tests.support.lost_acks import LostAcks
from tests.support.tables import table_name

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass
class World:
    views: ViewStore
    generations: Generations


@pytest.fixture(params=["memory", "dynamodb", "dynamodb-losing-every-ack"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    if request.param == "memory":
        views = InMemoryViewStore()
        yield World(views, InMemoryGenerations(views))
        return
    from event_sourcing.dynamodb.generations import DynamoDBGenerations
    from event_sourcing.dynamodb.views import DynamoDBViewStore

    client = request.getfixturevalue("dynamodb")
    if request.param == "dynamodb-losing-every-ack":
        client = LostAcks(client)
    table = table_name("ViewsTable")
    yield World(
        DynamoDBViewStore(client, table, consistent_reads=True), DynamoDBGenerations(client, table)
    )


def test_a_fresh_table_reads_generation_one_of_each_projection(world: World) -> None:
    pointers = world.generations.read([CatalogViews(), OrderingViews()])
    assert pointers["catalog"] == Pointer.initial(CatalogViews())
    assert pointers["catalog"].live.prefix == "catalog.1|"
    assert pointers["ordering"].active() == [pointers["ordering"].live]
    assert pointers["catalog"].epoch == 0


def test_a_pointer_is_written_over_the_epoch_it_was_read_at_only(world: World) -> None:
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


def test_dropping_a_generation_deletes_its_views_and_positions_only(world: World) -> None:
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
