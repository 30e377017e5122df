"""Ordering's read model, beyond the battery every projection passes
(test_projections.py): its history covers every ordering event and outcome, inventory
levels equal the inventory aggregates, and an order that went through many products is
rebuilt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.ordering.order import CancelReason, Order, OrderStatus
from domain.projections import all_projections
from event_sourcing.dynamodb.views import DynamoDBViewStore
from event_sourcing.projector import Projectors
from infra import container as composition
from tests.domain.ordering.support import stock_of
from tests.functions.histories import (
    Fresh,
    OrderingHistory,
    World,
    assert_views_are_right,
    deliver,
    fresh_views,
    last_versions,
    ordering_history,
    stream_of,
    type_of,
    world_of,
)
from tests.support.streams import stream_records
from tests.support.views import items_of, table_like

ORDERING_EVENTS = {
    "StockSet",
    "StockReserved",
    "StockReleased",
    "StockCommitted",
    "StockReturned",
    "OrderCreated",
    "OrderItemAdded",
    "OrderItemRemoved",
    "OrderPlaced",
    "OrderCancelled",
    "OrderStockReserved",
    "PaymentRequested",
    "PaymentCharged",
    "PaymentDeclined",
    "OrderConfirmed",
    "ConfirmationSent",
    "OrderStockReleased",
    "OrderStockReturned",
    "PaymentRefunded",
}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield from world_of(ordering_history)


@pytest.fixture
def fresh(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fresh]:
    yield from fresh_views(world, monkeypatch)


def ordering(fresh: Fresh) -> OrderingHistory:
    assert isinstance(fresh.history, OrderingHistory)
    return fresh.history


def test_the_history_covers_every_ordering_event_and_outcome(world: World) -> None:
    history = world.history
    assert isinstance(history, OrderingHistory)
    assert {type_of(r) for r in history.records} >= ORDERING_EVENTS
    statuses = {status for status, _ in history.outcome.values()}
    assert statuses == {s.value for s in OrderStatus}
    reasons = {reason for _, reason in history.outcome.values() if reason}
    assert reasons == {r.value for r in CancelReason}
    repository = composition.container().repository
    for label, order_id in history.orders.items():
        order = repository.load(Order, order_id)
        assert (order.state.status.value, order.state.reason) == history.outcome[label], label
        assert order.next_step() is None or label in ("reserved", "pending"), label
    book = stock_of(repository, history.products["Book"]).state
    assert (book.on_hand, book.reserved, book.available) == (15, 3, 12)
    pen = stock_of(repository, history.products["Pen"]).state
    assert (pen.on_hand, pen.reserved) == (4, 0)
    assert not stock_of(repository, history.products["Plain"]).exists
    # the order confirmed, then cancelled and refunded: its stream goes past a snapshot (a
    # book's stock is spread over buckets now, none of which gets that far here)
    returned = f"order-{history.orders['returned']}"
    assert last_versions(history.records)[returned] >= 10


def test_inventory_levels_equal_what_the_inventory_aggregates_say(fresh: Fresh) -> None:
    history = ordering(fresh)
    records = history.records
    inventories = [r for r in records if stream_of(r).startswith("inventory-")]
    assert {type_of(r) for r in inventories} == {
        "StockSet",
        "StockReserved",
        "StockReleased",
        "StockCommitted",
        "StockReturned",
    }
    # Inventory records only, newest first: every one but the newest of a stream fills
    # its gap from the event table, and then every older one is a duplicate.
    assert deliver(list(reversed(inventories))) == []
    history.assert_levels(fresh)
    expected = {
        "Book": (15, 3, 12),
        "Pen": (4, 0, 4),
        "Scarce": (1, 0, 1),
        "Plain": (0, 0, 0),
    }
    for name, (on_hand, reserved, available) in expected.items():
        levels = fresh.get(f"/inventory/{history.products[name]}")
        assert (levels["on_hand"], levels["reserved"], levels["available"]) == (
            on_hand,
            reserved,
            available,
        ), name
    assert deliver(records) == []
    assert_views_are_right(fresh)


def test_an_order_whose_draft_went_through_many_products_is_rebuilt(fresh: Fresh) -> None:
    """A draft holds at most MAX_LINES lines at once, but over its life it may hold any
    number of products. Its events are recorded with the aggregate the service uses
    (creating 96 catalogue products through the routes would take most of this file's
    time), a few commands' worth per write."""
    from decimal import Decimal

    from domain.access import CommandContext
    from domain.ordering.ports import ProductInfo

    c = composition.container()
    order = Order.create(c.ids.new_id(), ordering(fresh).users["ada"], c.clock.now())
    context = CommandContext("t", "t")
    products = [ProductInfo(f"p{n:03}", f"Product {n}", Decimal("1.00"), True) for n in range(96)]
    changes = [("add", p) for p in products[:48]] + [("remove", p) for p in products[:48]]
    changes += [("add", p) for p in products[48:]]
    for start in range(0, len(changes), 12):
        for change, product in changes[start : start + 12]:
            if change == "add":
                order.add_item(product.product_id, 1, product)
            else:
                order.remove_item(product.product_id)
        c.repository.save(order, context=context)
    # A rebuild of the stream, into an empty table.
    table = table_like(fresh.stack.client, fresh.stack.tables["ViewsTable"])
    views = DynamoDBViewStore(fresh.stack.client, table, consistent_reads=True)
    Projectors.first_generation(all_projections(), c.event_store, views).catch_up(order.stream_id)
    rebuilt = items_of(fresh.stack.client, table)
    assert {pk for pk, _ in rebuilt if pk.startswith("product#")} == {
        f"product#{p.product_id}#orders" for p in products[48:]
    }
    # The stream, newest record first: the 144 before it are read from the event table.
    records = [
        r
        for r in stream_records(fresh.stack.client, fresh.stack.tables["EventsTable"])
        if stream_of(r) == order.stream_id
    ]
    assert len(records) == order.version == 1 + 48 + 48 + 48
    assert deliver([records[-1]]) == []
    assert deliver(records) == []
    mine = {k: v for k, v in fresh.views().items() if order.id in k[0] or order.id in k[1]}
    assert mine == rebuilt
