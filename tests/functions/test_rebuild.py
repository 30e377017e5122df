"""Blue/green rebuilds (event_sourcing/rebuild.py) over the functions on moto: a new generation is
built beside the live one while customers keep searching and admins keep changing the
catalogue, readers switch to it at once, the old one is dropped, and the views then equal
a rebuild into an empty table. A crashed rebuild resumes from its checkpoint."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.access import CommandContext
from domain.catalog.category import Category
from domain.catalog.product import Product
from domain.catalog.views import CatalogViews
from event_sourcing.projector import rebuild
from event_sourcing.rebuild import Progress, Rebuild
from infra import container as composition
from tests.functions.conftest import Stack, open_stack
from tests.support.streams import StreamTail, admitted
from tests.support.views import items_of, rebuilt

PRODUCTS = int(os.environ.get("REBUILD_TEST_PRODUCTS", "100"))
"""Products in the catalogue rebuilt: 100 in `make test` (a product's projection makes about
forty requests of moto, a few milliseconds each); docs/operations.md runs it with 3,000."""
CHECK_EVERY = PRODUCTS // 4
"""Streams rebuilt between two rounds of queries."""
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CONTEXT = CommandContext("seed", "seed")


@dataclass
class Shop:
    stack: Stack
    admin: str
    category: str
    stream: StreamTail
    products: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> name, price
    rare: set[str] = field(default_factory=set)
    """The products whose description holds the word 'jukebox'."""

    def get(self, path: str, **query: str) -> dict[str, Any]:
        answer = self.stack.api.request("GET", path, query=query or None)
        assert answer.status == 200, f"{path}: {answer.text}"
        return dict(answer.json)

    def assert_answers_right(self, rng: random.Random) -> None:
        """What customers see: a search, some products, the category's count."""
        found = self.get("/products", q="jukebox", limit="100")
        assert {p["id"] for p in found["items"]} == self.rare
        for product_id in rng.sample(sorted(self.products), k=5):
            view = self.get(f"/products/{product_id}")
            assert (view["name"], view["price"]) == self.products[product_id]
        counted = self.get(f"/categories/{self.category}")
        assert counted["product_count"] == len(self.products)

    def project_new_records(self) -> None:
        """Deliver what the commands appended to the projector function, as Lambda would."""
        fresh = admitted(self.stream.new_records(), "ProjectorFunction")
        assert fresh
        from functions.projectors.app import handler
        from tests.support.lambda_context import FakeLambdaContext
        from tests.support.streams import batch

        with self.stack.acting_as("ProjectorFunction"):
            assert handler(batch(fresh), FakeLambdaContext()) == {"batchItemFailures": []}

    def new_product(self, name: str, description: str) -> None:
        body = {"name": name, "description": description, "price": "12.50"}
        answer = self.stack.api.request(
            "POST", "/products", json_body={**body, "category_id": self.category}, token=self.admin
        )
        assert answer.status == 201, answer.text
        product_id = answer.json["id"]
        activated = self.stack.api.request(
            "POST", f"/products/{product_id}/activate", token=self.admin
        )
        assert activated.status == 200, activated.text
        self.products[product_id] = (name, "12.50")
        if "jukebox" in description:
            self.rare.add(product_id)

    def reprice(self, product_id: str, price: str) -> None:
        answer = self.stack.api.request(
            "PUT", f"/products/{product_id}/price", json_body={"price": price}, token=self.admin
        )
        assert answer.status == 200, answer.text
        self.products[product_id] = (self.products[product_id][0], price)


def seed(stack: Stack) -> Shop:
    """The catalogue's events as the commands record them, then projected into the live
    generation (a rebuild from the event table is the quickest way there)."""
    c = composition.container()
    repository = c.repository
    events = stack.tables["EventsTable"]
    category = Category.create(c.ids.new_id(), "Everything", True, False, NOW)
    repository.save(category, context=CONTEXT)
    shop = Shop(
        stack, stack.admin_token(), category.id, StreamTail(stack.client, events, start="LATEST")
    )
    for n in range(PRODUCTS):
        description = "a jukebox" if n % 500 == 7 else "a thing"
        price = Decimal(100 + n % 900) / 100
        product = Product.create(
            c.ids.new_id(), f"P{n:05d}", description, price, category, "seed", NOW
        )
        product.activate("seed", NOW)
        repository.save(product, context=CONTEXT)
        shop.products[product.id] = (product.state.name, str(product.state.price))
        if "jukebox" in description:
            shop.rare.add(product.id)
    rebuild(c.projector)
    return shop


@pytest.fixture(scope="module")
def world() -> Iterator[Shop]:
    with pytest.MonkeyPatch.context() as patch, open_stack(patch) as stack:
        yield seed(stack)


READER_CACHE = 0.5
"""How long query functions keep a generation pointer here (5 s deployed): the rebuild
keeps the old generation a little longer than that after the switch, as it does deployed."""
PROJECTOR_LEASE = 0.3
"""How long the projector keeps the generations it read here (5 s deployed): the rebuild
waits a little longer than that after each change of them (its fence), as it does deployed."""


@pytest.fixture(autouse=True)
def quick_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.generations.READER_CACHE_SECONDS", READER_CACHE)
    monkeypatch.setattr("infra.generations.PROJECTOR_LEASE_SECONDS", PROJECTOR_LEASE)


def rebuild_of(shop: Shop, progress: Progress) -> Rebuild:
    c = composition.container()
    return Rebuild(
        CatalogViews(),
        c.generations,
        c.event_store,
        c.projector_views,
        c.clock,
        segments=1,
        retire_delay=READER_CACHE + 0.2,
        fence=PROJECTOR_LEASE + 0.2,
        wait=time.sleep,
        progress=progress,
    )


def test_queries_answer_right_throughout_a_rebuild_and_the_switch(world: Shop) -> None:
    shop, rng = world, random.Random(7)
    shop.assert_answers_right(rng)
    seen = {"streams": 0, "checks": 0}
    changes: Iterator[Callable[[], None]] = iter(
        [
            lambda: shop.new_product("Fresh one", "a jukebox too"),
            lambda: shop.reprice(sorted(shop.products)[3], "8.00"),
            lambda: shop.new_product("Fresh two", "plain"),
        ]
    )

    def advanced(streams: int, events: int) -> None:
        seen["streams"] += streams
        if seen["streams"] % CHECK_EVERY:
            return
        change = next(changes, None)
        if change is not None:  # an admin at work: the projector keeps both current
            change()
            shop.project_new_records()
        shop.assert_answers_right(rng)
        seen["checks"] += 1

    report = rebuild_of(shop, Progress(advanced=advanced)).run()

    assert seen["checks"] >= PRODUCTS // CHECK_EVERY
    assert (report.generation, report.replaced, report.resumed) == (2, 1, False)
    assert report.streams >= PRODUCTS
    assert report.dropped > PRODUCTS
    shop.assert_answers_right(rng)
    raw = items_of(shop.stack.client, shop.stack.tables["ViewsTable"], raw=True)
    assert not [k for k in raw if k[0].startswith("catalog.1|")], "the old generation is gone"
    assert any(k[0].startswith("catalog.2|") for k in raw)
    views = shop.stack.tables["ViewsTable"]
    assert items_of(shop.stack.client, views) == rebuilt(shop.stack.client, views)
    # After the switch, the projector applies new events to the new generation only.
    shop.new_product("Fresh three", "a jukebox again")
    shop.project_new_records()
    shop.assert_answers_right(rng)


class Crash(Exception):
    pass


def test_a_crashed_rebuild_resumes_from_its_checkpoint_in_parallel_segments(
    world: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("event_sourcing.dynamodb.event_store.SCAN_PAGE_ITEMS", 30)
    c = composition.container()
    done = {"streams": 0}

    def crash_midway(streams: int, events: int) -> None:
        done["streams"] += streams
        if done["streams"] == PRODUCTS // 2:
            raise Crash

    first = rebuild_of(world, Progress(advanced=crash_midway))
    first.segments = 2
    with pytest.raises(Crash):
        first.run()
    pointer = c.generations.read([CatalogViews()])["catalog"]
    assert pointer.building is not None
    assert pointer.checkpoint, "the scan's progress was saved"
    live = pointer.live

    second = rebuild_of(world, Progress())
    second.segments = 2
    report = second.run()

    assert report.resumed
    assert report.generation == pointer.building.number
    assert report.streams < PRODUCTS, "the streams of the saved pages were not read again"
    assert report.replaced == live.number
    views = world.stack.tables["ViewsTable"]
    assert items_of(world.stack.client, views) == rebuilt(world.stack.client, views)
    world.assert_answers_right(random.Random(3))
