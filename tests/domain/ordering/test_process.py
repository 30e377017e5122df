"""The order process: reserve every line at once, charge, confirm, notify; or cancel,
release and refund."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import RuleViolation
from domain.ordering import service as ordering
from domain.ordering.commands import CancelOrder, CreateOrder, RequestedItem, SetStock
from domain.ordering.inventory import Inventory, bucket_ids
from domain.ordering.order import (
    CancelReason,
    OrderStatus,
    OrderStockReserved,
    PaymentStatus,
    Step,
    StockStatus,
)
from domain.ordering.process import charge_key
from tests.domain.ordering.support import ADMIN, CUSTOMER, HAPPY_PATH, OTHER_CUSTOMER, World
from tests.fakes.ordering import DECLINED_METHOD, SUCCEEDING_METHOD


def inventory_types(world: World, product_id: str) -> list[str]:
    """The events of every bucket of the product's stock, in the order they were recorded."""
    events = [
        e
        for bucket in bucket_ids(product_id)
        if world.repository.head(Inventory, bucket)
        for e in world.repository.history(Inventory, bucket)
    ]
    return [e.type for e in sorted(events, key=lambda e: (e.occurred_at, e.version))]


def test_a_placed_order_ends_confirmed_paid_and_notified(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 1))
    world.pump.run()
    done = world.order(order.id)
    assert done.state.status is OrderStatus.CONFIRMED
    assert world.types(order.id) == HAPPY_PATH
    assert [step for _, step in world.pump.steps] == [
        Step.RESERVE,
        Step.REQUEST_PAYMENT,
        Step.CHARGE,
        Step.CONFIRM,
        Step.NOTIFY,
    ]
    (charge,) = world.payments.charges
    assert (charge.amount, charge.payment_method, charge.idempotency_key) == (
        Decimal("32.25"),
        SUCCEEDING_METHOD,
        charge_key(order.id),
    )
    assert done.state.charge_id == charge.charge.charge_id
    (message,) = world.notifier.sent
    assert (message.to_user_id, message.order_id, message.total) == (
        "cust1",
        order.id,
        Decimal("32.25"),
    )
    assert message.lines == done.state.items
    assert done.state.confirmation_id == message.message_id
    assert (world.inventory("p1").state.on_hand, world.inventory("p2").state.on_hand) == (8, 9)
    assert world.inventory("p1").state.reserved == world.inventory("p2").state.reserved == 0
    assert world.payments.refunds == []
    world.check_books([order.id])


def test_every_line_is_reserved_in_one_write_with_the_order(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 1))
    appends = world.store.appends
    assert world.process.handle(order.id, order.version) is Step.RESERVE
    assert world.store.appends == appends + 1
    assert inventory_types(world, "p1")[-1] == inventory_types(world, "p2")[-1] == "StockReserved"
    recorded = world.repository.history(type(order), order.id)[-1]
    reserved = world.repository.events.decode(recorded)
    assert isinstance(reserved, OrderStockReserved)
    # ten units each, spread over the buckets: a line is held where its units are
    for product_id, quantity in (("p1", 2), ("p2", 1)):
        lines = [line for line in reserved.lines if line.product_id == product_id]
        assert sum(line.quantity for line in lines) == quantity
        assert {line.stock_id for line in lines} <= set(bucket_ids(product_id))
    assert (world.inventory("p1").state.reserved, world.inventory("p1").state.available) == (2, 8)


def test_the_process_names_its_cause_and_acts_as_nobody(world: World) -> None:
    order = world.placed()
    world.process.handle(order.id, 4)
    world.process.handle(order.id, 5, correlation_id="req-1", causation_id="evt-5")
    first, second = world.repository.history(type(order), order.id)[-2:]
    assert (first.metadata.correlation_id, first.metadata.causation_id) == (
        f"order-{order.id}",
        f"order-{order.id}@4",
    )
    assert first.metadata.user_id is None
    assert (second.metadata.correlation_id, second.metadata.causation_id) == ("req-1", "evt-5")


def test_a_declined_payment_cancels_and_releases_the_stock(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 1), method=DECLINED_METHOD)
    world.pump.run()
    done = world.order(order.id)
    assert done.state.status is OrderStatus.CANCELLED
    assert done.state.reason is CancelReason.PAYMENT_DECLINED
    assert done.state.cancelled_by == "system"
    assert done.state.decline_code == "card_declined"
    assert world.types(order.id)[4:] == [
        "OrderStockReserved",
        "PaymentRequested",
        "PaymentDeclined",
        "OrderCancelled",
        "OrderStockReleased",
        "CancellationSent",
    ]
    assert inventory_types(world, "p1")[-1] == "StockReleased"
    assert (world.inventory("p1").state.on_hand, world.inventory("p1").state.reserved) == (10, 0)
    assert world.payments.succeeded_charges() == []
    assert world.payments.refunds == []
    assert world.notifier.sent == []
    (told,) = world.notifier.cancellations
    assert (told.order_id, told.reason, told.refunded) == (
        order.id,
        "payment_declined (card_declined)",
        None,
    )
    assert done.state.cancellation_id == told.message_id
    world.check_books([order.id])


def test_an_order_short_of_any_line_is_cancelled_with_nothing_reserved(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 11))
    world.pump.run()
    done = world.order(order.id)
    assert done.state.status is OrderStatus.CANCELLED
    assert done.state.reason is CancelReason.OUT_OF_STOCK
    assert done.state.stock is StockStatus.NONE
    assert world.types(order.id)[-2:] == ["OrderCancelled", "CancellationSent"]
    assert [m.reason for m in world.notifier.cancellations] == ["out_of_stock"]
    assert set(inventory_types(world, "p1")) == set(inventory_types(world, "p2")) == {"StockSet"}
    assert world.payments.calls["charge"] == 0
    world.check_books([order.id])


def test_an_order_for_a_product_never_counted_is_out_of_stock(world: World) -> None:
    world.catalog.add("p9", "Trowel", "4.00")
    order = world.placed(("p9", 1))
    world.pump.run()
    assert world.order(order.id).state.reason is CancelReason.OUT_OF_STOCK


def test_cancelling_a_confirmed_order_returns_its_stock_and_refunds_once(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 1))
    world.pump.run()
    appends = world.store.appends
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    assert world.store.appends == appends + 1
    assert world.types(order.id)[-2:] == ["OrderCancelled", "OrderStockReturned"]
    returned = inventory_types(world, "p1")
    assert returned.count("StockReturned") == returned.count("StockCommitted") >= 1
    assert (world.inventory("p1").state.on_hand, world.inventory("p2").state.on_hand) == (10, 10)
    world.pump.run()
    world.pump.redeliver_everything()
    done = world.order(order.id)
    assert done.state.payment is PaymentStatus.REFUNDED
    (refund,) = world.payments.refunds
    assert (refund.charge_id, refund.amount) == (done.state.charge_id, Decimal("32.25"))
    assert done.state.refund_id == refund.refund.refund_id
    assert world.types(order.id)[-2:] == ["PaymentRefunded", "CancellationSent"]
    (told,) = world.notifier.cancellations
    assert (told.reason, told.refunded) == ("cancelled_by_customer", Decimal("32.25"))
    world.check_books([order.id])


def test_cancelling_a_reserved_order_releases_in_the_same_write(world: World) -> None:
    order = world.placed(("p1", 2), ("p2", 1))
    world.process.handle(order.id, order.version)
    appends = world.store.appends
    ordering.cancel(world.repository, CancelOrder(order.id), ADMIN)
    assert world.store.appends == appends + 1
    assert world.types(order.id)[-2:] == ["OrderCancelled", "OrderStockReleased"]
    assert inventory_types(world, "p2")[-1] == "StockReleased"
    world.pump.run()
    assert world.payments.calls["charge"] == 0
    world.check_books([order.id])


def test_a_draft_an_admin_cancels_mails_its_customer_once(world: World) -> None:
    lines = (RequestedItem("p1", 1),)
    draft = ordering.create_order(world.repository, world.catalog, CreateOrder(lines), CUSTOMER)
    ordering.cancel(world.repository, CancelOrder(draft.id), ADMIN)
    world.pump.run()
    world.pump.run()
    assert world.pump.steps == [(draft.id, Step.NOTIFY_CANCELLATION)]
    assert [(m.reason, m.refunded) for m in world.notifier.cancellations] == [
        ("cancelled_by_admin", None)
    ]


def test_cancelling_before_the_process_ran_leaves_it_only_the_email(world: World) -> None:
    order = world.placed()
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    world.pump.run()
    assert world.pump.steps == [(order.id, Step.NOTIFY_CANCELLATION)]
    assert [(m.reason, m.refunded) for m in world.notifier.cancellations] == [
        ("cancelled_by_customer", None)
    ]
    assert world.payments.calls == {"charge": 0, "refund": 0}
    world.check_books([order.id])


def test_a_cancel_that_lands_during_the_charge_is_settled_and_refunded(world: World) -> None:
    order = world.placed(("p1", 1))
    while world.order(order.id).state.payment is not PaymentStatus.REQUESTED:
        world.pump.deliver(world.pump.ready()[0])
    # The provider charges, then, before the charge is recorded, the customer cancels.
    world.store.before_next_append(
        lambda: ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    )
    world.pump.run()
    done = world.order(order.id)
    assert done.state.reason is CancelReason.CANCELLED_BY_CUSTOMER
    assert world.types(order.id)[-4:] == [
        "OrderStockReleased",
        "PaymentCharged",
        "PaymentRefunded",
        "CancellationSent",
    ]
    assert len(world.payments.succeeded_charges()) == len(world.payments.refunds) == 1
    world.check_books([order.id])


def test_a_payment_requested_then_cancelled_is_asked_again_and_refunded(world: World) -> None:
    """The process recorded its intent to charge and crashed; the customer cancelled.
    Whether or not the provider got the first call, the same key settles it."""
    order = world.placed(("p1", 1))
    world.process.handle(order.id, 4)
    world.process.handle(order.id, 5)
    assert world.order(order.id).state.payment is PaymentStatus.REQUESTED
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    world.pump.run()
    assert [step for _, step in world.pump.steps][-3:] == [
        Step.SETTLE,
        Step.REFUND,
        Step.NOTIFY_CANCELLATION,
    ]
    world.check_books([order.id])


def test_a_settled_decline_needs_no_refund(world: World) -> None:
    order = world.placed(("p1", 1), method=DECLINED_METHOD)
    world.process.handle(order.id, 4)
    world.process.handle(order.id, 5)
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    world.pump.run()
    done = world.order(order.id)
    assert done.state.payment is PaymentStatus.DECLINED
    assert done.state.reason is CancelReason.CANCELLED_BY_CUSTOMER
    assert world.payments.refunds == []
    world.check_books([order.id])


def test_a_cancel_before_the_confirmation_is_sent_sends_none(world: World) -> None:
    order = world.placed()
    while world.order(order.id).state.status is not OrderStatus.CONFIRMED:
        world.pump.deliver(world.pump.ready()[0])
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    world.pump.run()
    assert world.notifier.sent == []
    assert len(world.payments.refunds) == 1
    world.check_books([order.id])


def test_old_and_duplicate_events_change_nothing_once_done(world: World) -> None:
    order = world.placed()
    world.pump.run()
    version = world.order(order.id).version
    calls = dict(world.payments.calls), world.notifier.calls
    for event_version in [1, 4, 4, version, 2]:
        assert world.process.handle(order.id, event_version) is None
    world.pump.redeliver_everything()
    assert world.order(order.id).version == version
    assert (dict(world.payments.calls), world.notifier.calls) == calls


def test_an_unknown_or_draft_order_needs_nothing(world: World) -> None:
    assert world.process.handle("ghost", 1) is None
    draft = ordering.create_order(
        world.repository, world.catalog, CreateOrder((RequestedItem("p1", 1),)), CUSTOMER
    )
    assert world.process.handle(draft.id, 1) is None


# the last unit


def test_two_orders_for_the_last_unit_in_turn_confirm_one(world: World) -> None:
    ordering.set_stock(world.repository, world.catalog, SetStock("p3", 1), ADMIN)
    first = world.placed(("p3", 1))
    second = world.placed(("p3", 1), context=OTHER_CUSTOMER)
    world.pump.run()
    statuses = {world.order(o.id).state.status for o in (first, second)}
    assert statuses == {OrderStatus.CONFIRMED, OrderStatus.CANCELLED}
    assert world.order(second.id).state.reason is CancelReason.OUT_OF_STOCK
    world.stock["p3"] = 1
    world.check_books([first.id, second.id])


def test_two_orders_racing_for_the_last_unit_confirm_exactly_one(world: World) -> None:
    """The first order's reservation loads the stock, then the second order's reservation
    is written before the first's: the first's write conflicts, it decides again on the
    fresh stock and finds none."""
    ordering.set_stock(world.repository, world.catalog, SetStock("p3", 1), ADMIN)
    world.stock["p3"] = 1
    first = world.placed(("p3", 1))
    second = world.placed(("p3", 1), context=OTHER_CUSTOMER)
    world.store.before_next_append(lambda: world.process.handle(second.id, 4))
    assert world.process.handle(first.id, 4) is Step.RESERVE
    assert world.order(second.id).state.stock is StockStatus.RESERVED
    assert world.order(first.id).state.reason is CancelReason.OUT_OF_STOCK
    world.pump.run()
    assert world.order(second.id).state.status is OrderStatus.CONFIRMED
    assert world.inventory("p3").state.on_hand == 0
    world.check_books([first.id, second.id])


def test_placing_the_same_draft_from_two_tabs_places_it_once(world: World) -> None:
    draft = ordering.create_order(
        world.repository, world.catalog, CreateOrder((RequestedItem("p1", 1),)), CUSTOMER
    )
    world.store.before_next_append(lambda: world.place(draft.id, SUCCEEDING_METHOD, CUSTOMER))
    with pytest.raises(RuleViolation) as refused:
        world.place(draft.id, SUCCEEDING_METHOD, CUSTOMER)
    assert refused.value.code == "order_not_draft"
    assert world.types(draft.id).count("OrderPlaced") == 1
