"""The seed's Order rules, through the ordering use cases on fakes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from domain.access import CommandContext
from domain.errors import Forbidden, InvalidValue, NotFound, RuleViolation, Unauthenticated
from domain.ordering import service as ordering
from domain.ordering.commands import (
    AddItem,
    CancelOrder,
    CreateOrder,
    RemoveItem,
    RequestedItem,
    SetStock,
)
from domain.ordering.order import (
    CancelReason,
    Order,
    OrderCancelled,
    OrderCreated,
    OrderItemAdded,
    OrderPlaced,
    OrderStatus,
)
from domain.ordering.values import MAX_LINES, OrderLine
from event_sourcing.errors import VersionMismatch
from event_sourcing.events import DomainEvent
from tests.domain.ordering.support import ADMIN, ANON, CUSTOMER, OTHER_CUSTOMER, World
from tests.fakes.ordering import DECLINED_METHOD, SUCCEEDING_METHOD


def create(world: World, *items: tuple[str, Any], context: CommandContext = CUSTOMER) -> Order:
    return ordering.create_order(
        world.repository,
        world.catalog,
        CreateOrder(tuple(RequestedItem(p, q) for p, q in items)),
        context,
    )


def decoded(world: World, order: Order) -> list[DomainEvent]:
    return [world.repository.events.decode(r) for r in world.repository.history(Order, order.id)]


# creation


def test_a_customer_creates_a_draft_priced_by_the_catalogue(world: World) -> None:
    appends = world.store.appends
    order = create(world, ("p1", 2), ("p2", 1))
    assert order.state.status is OrderStatus.DRAFT
    assert order.state.customer_id == "cust1"
    assert order.state.items == (
        OrderLine("p1", "Spade", Decimal("12.50"), 2),
        OrderLine("p2", "Rake", Decimal("7.25"), 1),
    )
    assert order.state.total == Decimal("32.25")
    assert order.version == 3
    assert world.store.appends == appends + 1


def test_creation_records_the_order_then_one_event_per_line(world: World) -> None:
    order = create(world, ("p1", 2), ("p3", 1))
    assert decoded(world, order) == [
        OrderCreated(order.id, "cust1", world.clock.now()),
        OrderItemAdded("p1", "Spade", Decimal("12.50"), 2),
        OrderItemAdded("p3", "Hoe", Decimal("3.10"), 1),
    ]
    (first, *_) = world.repository.history(Order, order.id)
    assert first.stream_id == f"order-{order.id}"
    assert first.metadata.user_id == "cust1"
    assert world.repository.history(Order, order.id)[1].data["unit_price"] == "12.50"


def test_an_order_may_start_empty(world: World) -> None:
    order = create(world)
    assert (order.version, order.state.items, order.state.total) == (1, (), Decimal("0.00"))


def test_the_same_product_twice_adds_up(world: World) -> None:
    order = create(world, ("p1", 2), ("p1", 3))
    assert order.state.items == (OrderLine("p1", "Spade", Decimal("12.50"), 5),)
    assert order.state.total == Decimal("62.50")


@pytest.mark.parametrize(
    ("items", "total"),
    [
        ((("p1", 1),), "12.50"),
        ((("p1", 2), ("p2", 1)), "32.25"),
        ((("p3", 3),), "9.30"),
        ((("p2", 1000),), "7250.00"),
        ((("p1", 1), ("p2", 1), ("p3", 1), ("p1", 1)), "35.35"),
    ],
)
def test_the_total_is_the_sum_of_price_times_quantity(
    world: World, items: tuple[tuple[str, int], ...], total: str
) -> None:
    order = create(world, *items)
    assert order.state.total == Decimal(total)
    assert str(order.state.total) == total


@pytest.mark.parametrize("quantity", [0, -1, 1001, True, 2.5, "3", None])
def test_a_quantity_is_a_whole_number_from_1_to_1000(world: World, quantity: Any) -> None:
    with pytest.raises(InvalidValue) as refused:
        create(world, ("p2", 1), ("p1", quantity))
    assert refused.value.code == "invalid_quantity"
    assert refused.value.details[0].field == "items[1].quantity"


@pytest.mark.parametrize("quantity", [1, 1000])
def test_quantities_1_and_1000_are_fine(world: World, quantity: int) -> None:
    assert create(world, ("p1", quantity)).state.items[0].quantity == quantity


def test_an_order_holds_at_most_max_lines_items(world: World) -> None:
    with pytest.raises(InvalidValue) as refused:
        create(world, *[("p1", 1)] * (MAX_LINES + 1))
    assert refused.value.code == "too_many_items"
    for n in range(MAX_LINES + 1):
        world.catalog.add(f"x{n}", f"Thing {n}", "1.00")
    full = create(world, *[(f"x{n}", 1) for n in range(MAX_LINES)])
    assert len(full.state.items) == MAX_LINES
    with pytest.raises(RuleViolation) as too_many:
        ordering.add_item(
            world.repository, world.catalog, AddItem(full.id, f"x{MAX_LINES}", 1), CUSTOMER
        )
    assert too_many.value.code == "too_many_lines"
    more = ordering.add_item(world.repository, world.catalog, AddItem(full.id, "x0", 1), CUSTOMER)
    assert more.state.items[0].quantity == 2


def test_a_line_holds_at_most_1000_units(world: World) -> None:
    order = create(world, ("p1", 600))
    with pytest.raises(RuleViolation) as refused:
        ordering.add_item(world.repository, world.catalog, AddItem(order.id, "p1", 401), CUSTOMER)
    assert refused.value.code == "quantity_limit"
    assert ordering.add_item(
        world.repository, world.catalog, AddItem(order.id, "p1", 400), CUSTOMER
    ).state.total == Decimal("12500.00")
    with pytest.raises(RuleViolation):
        create(world, ("p1", 999), ("p1", 2))


@pytest.mark.parametrize("product_id", ["ghost", "retired"])
def test_only_active_catalogue_products_can_be_ordered(world: World, product_id: str) -> None:
    world.catalog.add("retired", "Scythe", "40.00", is_active=False)
    with pytest.raises(RuleViolation) as refused:
        create(world, ("p1", 1), (product_id, 1))
    assert refused.value.code == "product_unavailable"
    assert refused.value.details[0].field == "items[1].product_id"
    draft = create(world)
    with pytest.raises(RuleViolation) as again:
        ordering.add_item(
            world.repository, world.catalog, AddItem(draft.id, product_id, 1), CUSTOMER
        )
    assert again.value.code == "product_unavailable"
    assert again.value.details[0].field == "product_id"


@pytest.mark.parametrize("product_id", ["", "  p1", "x" * 201])
def test_a_product_id_is_a_plain_id(world: World, product_id: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        create(world, (product_id, 1))
    assert refused.value.code == "invalid_id"


def test_a_refused_creation_records_nothing(world: World) -> None:
    appends = world.store.appends
    with pytest.raises(RuleViolation):
        create(world, ("p1", 1), ("ghost", 1))
    assert world.store.appends == appends


# adding and removing


def test_adding_an_existing_product_adds_to_its_quantity(world: World) -> None:
    order = create(world, ("p1", 2))
    added = ordering.add_item(
        world.repository, world.catalog, AddItem(order.id, "p1", 3), CUSTOMER, expected_version=2
    )
    assert added.state.items == (OrderLine("p1", "Spade", Decimal("12.50"), 5),)
    assert added.version == 3


def test_a_line_takes_the_catalogue_price_of_the_moment_it_changes(world: World) -> None:
    order = create(world, ("p1", 2), ("p2", 1))
    world.catalog.add("p1", "Garden spade", "14.00")
    unchanged = ordering.order(world.repository, order.id, CUSTOMER.caller)
    assert unchanged.state.items[0].unit_price == Decimal("12.50")
    added = ordering.add_item(world.repository, world.catalog, AddItem(order.id, "p1", 1), CUSTOMER)
    assert added.state.items[0] == OrderLine("p1", "Garden spade", Decimal("14.00"), 3)
    assert added.state.total == Decimal("49.25")


def test_removing_a_line_removes_its_units_from_the_total(world: World) -> None:
    order = create(world, ("p1", 2), ("p2", 1))
    removed = ordering.remove_item(world.repository, RemoveItem(order.id, "p1"), CUSTOMER)
    assert [line.product_id for line in removed.state.items] == ["p2"]
    assert removed.state.total == Decimal("7.25")
    again = ordering.add_item(world.repository, world.catalog, AddItem(order.id, "p1", 1), CUSTOMER)
    assert [line.product_id for line in again.state.items] == ["p2", "p1"]


def test_removing_a_product_not_in_the_order_is_refused(world: World) -> None:
    order = create(world, ("p1", 2))
    with pytest.raises(RuleViolation) as refused:
        ordering.remove_item(world.repository, RemoveItem(order.id, "p2"), CUSTOMER)
    assert refused.value.code == "not_in_order"


ItemChange = Callable[[World, str], object]
ITEM_CHANGES: dict[str, ItemChange] = {
    "add": lambda w, o: ordering.add_item(w.repository, w.catalog, AddItem(o, "p3", 1), CUSTOMER),
    "add_existing": lambda w, o: ordering.add_item(
        w.repository, w.catalog, AddItem(o, "p1", 1), CUSTOMER
    ),
    "remove": lambda w, o: ordering.remove_item(w.repository, RemoveItem(o, "p1"), CUSTOMER),
}


@pytest.mark.parametrize("change", ITEM_CHANGES)
@pytest.mark.parametrize("state", ["placed", "confirmed", "cancelled"])
def test_items_change_only_in_a_draft(world: World, change: str, state: str) -> None:
    order = world.placed(("p1", 2))
    if state == "confirmed":
        world.pump.run()
    if state == "cancelled":
        ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    version = world.order(order.id).version
    with pytest.raises(RuleViolation) as refused:
        ITEM_CHANGES[change](world, order.id)
    assert refused.value.code == "order_not_draft"
    assert refused.value.message == (
        f"This order is {state}: its items can change only while it is a draft."
    )
    assert world.order(order.id).version == version


# placing


def test_placing_records_the_method_and_the_total(world: World) -> None:
    order = create(world, ("p1", 2), ("p2", 1))
    placed = world.place(order.id, SUCCEEDING_METHOD, CUSTOMER, expected_version=3)
    assert placed.state.status is OrderStatus.PLACED
    assert placed.version == 4
    assert decoded(world, order)[-1] == OrderPlaced(
        SUCCEEDING_METHOD, Decimal("32.25"), world.clock.now()
    )


def test_an_empty_order_cannot_be_placed(world: World) -> None:
    order = create(world, ("p1", 1))
    ordering.remove_item(world.repository, RemoveItem(order.id, "p1"), CUSTOMER)
    with pytest.raises(RuleViolation) as refused:
        world.place(order.id, SUCCEEDING_METHOD, CUSTOMER)
    assert refused.value.code == "empty_order"


def test_an_order_is_placed_once(world: World) -> None:
    order = world.placed()
    with pytest.raises(RuleViolation) as refused:
        world.place(order.id, SUCCEEDING_METHOD, CUSTOMER)
    assert refused.value.code == "order_not_draft"
    assert (
        refused.value.message == "This order is placed: it can be placed only while it is a draft."
    )


def test_placing_a_cancelled_order_says_it_is_cancelled(world: World) -> None:
    order = world.placed()
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    with pytest.raises(RuleViolation) as refused:
        world.place(order.id, SUCCEEDING_METHOD, CUSTOMER)
    assert (refused.value.code, refused.value.message) == (
        "order_not_draft",
        "This order is cancelled: it can be placed only while it is a draft.",
    )


@pytest.mark.parametrize("method", ["pm_card_amex_unknown", "card", "PM_CARD_VISA"])
def test_an_unsupported_payment_method_is_a_bad_value(world: World, method: str) -> None:
    order = create(world, ("p1", 1))
    with pytest.raises(InvalidValue) as refused:
        world.place(order.id, method, CUSTOMER)
    assert refused.value.code == "unsupported_payment_method"
    assert refused.value.details[0].field == "payment_method"
    assert world.order(order.id).state.status is OrderStatus.DRAFT


@pytest.mark.parametrize("method", ["", "   "])
def test_a_payment_method_is_required(world: World, method: str) -> None:
    order = create(world, ("p1", 1))
    with pytest.raises(InvalidValue) as refused:
        world.place(order.id, method, CUSTOMER)
    assert refused.value.code == "invalid_payment_method"


def test_the_payment_method_is_checked_before_the_order(world: World) -> None:
    with pytest.raises(InvalidValue):
        world.place("ghost", "bitcoin", CUSTOMER)


def test_a_product_withdrawn_since_it_was_added_blocks_placing(world: World) -> None:
    order = create(world, ("p1", 1), ("p2", 1))
    world.catalog.deactivate("p2")
    with pytest.raises(RuleViolation) as refused:
        world.place(order.id, SUCCEEDING_METHOD, CUSTOMER)
    assert refused.value.code == "product_unavailable"
    assert [d.issue for d in refused.value.details] == ["p2"]
    ordering.remove_item(world.repository, RemoveItem(order.id, "p2"), CUSTOMER)
    placed = world.place(order.id, DECLINED_METHOD, CUSTOMER)
    assert placed.state.status is OrderStatus.PLACED


# cancelling


@pytest.mark.parametrize(
    ("state", "allowed"),
    [("draft", True), ("placed", True), ("confirmed", True), ("cancelled", False)],
)
def test_an_order_can_be_cancelled_while_draft_placed_or_confirmed(
    world: World, state: str, allowed: bool
) -> None:
    order = create(world, ("p1", 1))
    if state != "draft":
        world.place(order.id, SUCCEEDING_METHOD, CUSTOMER)
    if state == "confirmed":
        world.pump.run()
        assert world.order(order.id).state.status is OrderStatus.CONFIRMED
    if state == "cancelled":
        ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    if allowed:
        cancelled = ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
        assert cancelled.state.status is OrderStatus.CANCELLED
        assert cancelled.state.reason is CancelReason.CANCELLED_BY_CUSTOMER
        assert cancelled.state.cancelled_by == "cust1"
        assert cancelled.state.cancelled_at == world.clock.now()
    else:
        with pytest.raises(RuleViolation) as refused:
            ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
        assert refused.value.code == "cannot_cancel"


def test_an_admin_cancels_any_order(world: World) -> None:
    order = world.placed()
    cancelled = ordering.cancel(world.repository, CancelOrder(order.id), ADMIN)
    assert cancelled.state.reason is CancelReason.CANCELLED_BY_ADMIN
    assert cancelled.state.cancelled_by == "admin1"


def test_an_admin_cancelling_their_own_order_does_so_as_its_customer(world: World) -> None:
    order = create(world, ("p1", 1), context=ADMIN)
    cancelled = ordering.cancel(world.repository, CancelOrder(order.id), ADMIN)
    assert cancelled.state.reason is CancelReason.CANCELLED_BY_CUSTOMER


def test_cancelling_a_draft_touches_no_stock(world: World) -> None:
    order = create(world, ("p1", 1))
    versions = world.inventory("p1").version
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    assert world.inventory("p1").version == versions
    assert world.types(order.id)[-1] == "OrderCancelled"


# who sees what


OWNER_COMMANDS: dict[str, Callable[[World, str, CommandContext], object]] = {
    "add_item": lambda w, o, ctx: ordering.add_item(
        w.repository, w.catalog, AddItem(o, "p1", 1), ctx
    ),
    "remove_item": lambda w, o, ctx: ordering.remove_item(w.repository, RemoveItem(o, "p1"), ctx),
    "place": lambda w, o, ctx: w.place(o, SUCCEEDING_METHOD, ctx),
    "cancel": lambda w, o, ctx: ordering.cancel(w.repository, CancelOrder(o), ctx),
    "order": lambda w, o, ctx: ordering.order(w.repository, o, ctx.caller),
}


@pytest.mark.parametrize("name", OWNER_COMMANDS)
def test_another_customers_order_does_not_exist(world: World, name: str) -> None:
    order = create(world, ("p1", 1))
    with pytest.raises(NotFound) as hidden:
        OWNER_COMMANDS[name](world, order.id, OTHER_CUSTOMER)
    assert hidden.value.code == "order_not_found"
    with pytest.raises(NotFound) as missing:
        OWNER_COMMANDS[name](world, "ghost", CUSTOMER)
    assert str(missing.value) == str(hidden.value).replace(order.id, "ghost")
    assert world.order(order.id).version == 2


@pytest.mark.parametrize("name", OWNER_COMMANDS)
def test_an_anonymous_caller_must_sign_in_first(world: World, name: str) -> None:
    order = create(world, ("p1", 1))
    with pytest.raises(Unauthenticated):
        OWNER_COMMANDS[name](world, order.id, ANON)


@pytest.mark.parametrize("name", ["add_item", "remove_item", "place"])
def test_an_admin_sees_but_does_not_fill_or_place_a_customers_order(
    world: World, name: str
) -> None:
    order = create(world, ("p1", 1))
    with pytest.raises(Forbidden) as refused:
        OWNER_COMMANDS[name](world, order.id, ADMIN)
    assert refused.value.code == "owner_only"
    assert ordering.order(world.repository, order.id, ADMIN.caller).state.customer_id == "cust1"


def test_only_a_signed_in_caller_creates_an_order(world: World) -> None:
    with pytest.raises(Unauthenticated):
        create(world, ("p1", 1), context=ANON)


@pytest.mark.parametrize("name", ["add_item", "remove_item", "place", "cancel"])
def test_a_stale_version_is_refused_and_records_nothing(world: World, name: str) -> None:
    order = create(world, ("p1", 1), ("p2", 1))
    commands: dict[str, Callable[[int], Order]] = {
        "add_item": lambda v: ordering.add_item(
            world.repository, world.catalog, AddItem(order.id, "p1", 1), CUSTOMER, v
        ),
        "remove_item": lambda v: ordering.remove_item(
            world.repository, RemoveItem(order.id, "p1"), CUSTOMER, v
        ),
        "place": lambda v: world.place(order.id, SUCCEEDING_METHOD, CUSTOMER, expected_version=v),
        "cancel": lambda v: ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER, v),
    }
    command = commands[name]
    with pytest.raises(VersionMismatch) as stale:
        command(2)
    assert (stale.value.expected, stale.value.actual) == (2, 3)
    assert world.order(order.id).version == 3
    assert command(3).version == 4


def test_another_customers_stale_version_still_says_not_found(world: World) -> None:
    order = create(world, ("p1", 1))
    with pytest.raises(NotFound):
        ordering.cancel(world.repository, CancelOrder(order.id), OTHER_CUSTOMER, expected_version=1)


# replay


def test_replaying_or_restoring_an_order_gives_the_same_state(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 1))
    world.pump.run()
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    world.pump.run()
    current = world.order(order.id)
    assert current.state.refund_id is not None
    replayed = Order.rebuild(order.id, decoded(world, order))
    assert replayed.state == current.state
    restored = Order.restore(order.id, current.version, current.snapshot_state())
    assert restored.state == current.state


@pytest.mark.parametrize("method", [SUCCEEDING_METHOD, DECLINED_METHOD])
def test_the_widest_writes_of_a_full_order_fit_one_append(world: World, method: str) -> None:
    """Every step of an order of MAX_LINES products, to its cancellation (a decline, or
    the customer's after confirmation), is one atomic append: the store would refuse
    an append of more than MAX_APPEND_ITEMS items."""
    for n in range(MAX_LINES):
        world.catalog.add(f"x{n}", f"Thing {n}", "1.00")
        ordering.set_stock(world.repository, world.catalog, SetStock(f"x{n}", 5), ADMIN)
    order = create(world, *[(f"x{n}", 1) for n in range(MAX_LINES)])
    world.place(order.id, method, CUSTOMER)
    world.pump.run()
    if method == SUCCEEDING_METHOD:
        assert world.order(order.id).state.status is OrderStatus.CONFIRMED
        ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
        world.pump.run()
    assert world.order(order.id).state.status is OrderStatus.CANCELLED
    assert world.pump.failures == 0
    assert all(world.inventory(f"x{n}").state.on_hand == 5 for n in range(MAX_LINES))


def test_a_cancellation_of_the_previous_release_mails_no_one() -> None:
    """OrderCancelled v1 (before cancellations were mailed) reads as notify=False: an old
    cancelled order redelivered or redriven is not mailed now."""
    from datetime import UTC, datetime

    from event_sourcing.events import Metadata, RecordedEvent, registry

    v1 = RecordedEvent(
        "order-o1",
        5,
        "OrderCancelled",
        1,
        datetime(2026, 1, 1, tzinfo=UTC),
        {
            "reason": "cancelled_by_customer",
            "cancelled_by": "u1",
            "cancelled_at": "2026-01-01T00:00:00.000Z",
        },
        Metadata("e1", "c1", "c1", "u1"),
    )
    event = registry.decode(v1)
    assert isinstance(event, OrderCancelled)
    assert event.notify is False


def test_a_reservation_recorded_before_buckets_is_held_by_the_products_first_bucket(
    world: World,
) -> None:
    """What the previous release stored: lines without a bucket, in the product's one
    stream, which is now its first bucket; such an order confirms, releases and returns
    there."""
    from dataclasses import replace

    from domain.ordering.inventory import Inventory
    from domain.ordering.order import OrderStockReserved
    from domain.ordering.values import StockLine
    from event_sourcing.events import RecordedEvent

    order = world.placed(("p1", 2))
    world.process.handle(order.id, order.version)  # reserved (ten units: bucket p1 alone)
    stored = world.repository.history(type(order), order.id)[-1]
    assert stored.type == "OrderStockReserved"
    old: RecordedEvent = replace(stored, data={"lines": [{"product_id": "p1", "quantity": 2}]})
    decoded = world.repository.events.decode(old)
    assert decoded == OrderStockReserved((StockLine("p1", 2),))
    assert decoded.lines[0].stock_id == "p1"
    assert world.repository.load(Inventory, "p1").held_for(order.id) == 2
    world.pump.run()  # confirmed: committed in the bucket that holds it
    assert world.inventory("p1").state.on_hand == 8
