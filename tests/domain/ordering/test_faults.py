"""Crashes anywhere, redeliveries, duplicates and races: the order process still ends every
order confirmed or cancelled, with the stock, the charges and the messages in agreement.

Each step is failed once before and once after its effect: the provider's call (a
timeout after the provider did the work) or the append (written, but the answer lost).
Then every event of the order's stream is delivered, failed ones again, each twice, and
the whole stream once more at the end."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ordering.order import CancelReason, OrderStatus, PaymentStatus, StockStatus
from event_sourcing.errors import ConcurrencyError
from tests.domain.ordering.support import CUSTOMER, World
from tests.fakes.ordering import DECLINED_METHOD, SUCCEEDING_METHOD, InjectedFailure


@dataclass(frozen=True)
class Fault:
    target: str
    """An event type (its append fails) or a provider call: charge, refund, order_confirmed."""
    after_effect: bool

    def inject(self, world: World) -> None:
        if self.target in ("charge", "refund"):
            world.payments.fail_next(self.target, after_effect=self.after_effect)  # type: ignore[arg-type]
        elif self.target == "order_confirmed":
            world.notifier.fail_next(after_effect=self.after_effect)
        else:
            world.store.fail_append_of(self.target, after_effect=self.after_effect)

    def pending(self, world: World) -> int:
        return (
            world.payments.faults_pending
            + world.notifier.faults_pending
            + world.store.faults_pending
        )

    def __str__(self) -> str:
        return f"{self.target}-{'after' if self.after_effect else 'before'}"


def run_until(world: World, order_id: str, done: Callable[[World], bool]) -> None:
    """Deliver the order's events until `done` holds (failures are delivered again)."""
    for _ in range(100):
        if done(world):
            return
        world.pump.ready()
        world.pump.deliver(order_id, keep=False)
    raise AssertionError("never got there")


def confirmed(world: World) -> list[str]:
    return [world.placed(("p1", 2), ("p2", 1)).id]


def declined(world: World) -> list[str]:
    return [world.placed(("p1", 2), ("p2", 1), method=DECLINED_METHOD).id]


def short(world: World) -> list[str]:
    return [world.placed(("p1", 2), ("p2", 11)).id]


def cancel_confirmed(world: World) -> list[str]:
    order_id = confirmed(world)[0]
    world.pump.run(twice=True)
    world.cancel_as_customer(order_id)
    return [order_id]


def cancel_reserved(world: World) -> list[str]:
    order_id = confirmed(world)[0]
    run_until(world, order_id, lambda w: w.order(order_id).state.stock is StockStatus.RESERVED)
    world.cancel_as_customer(order_id)
    return [order_id]


def cancel_requested(world: World) -> list[str]:
    order_id = confirmed(world)[0]
    run_until(world, order_id, lambda w: w.order(order_id).state.payment is PaymentStatus.REQUESTED)
    world.cancel_as_customer(order_id)
    return [order_id]


Scenario = Callable[[World], list[str]]

SCENARIOS: dict[str, tuple[Scenario, OrderStatus, CancelReason | None, list[str]]] = {
    "confirmed": (
        confirmed,
        OrderStatus.CONFIRMED,
        None,
        [
            "OrderStockReserved",
            "PaymentRequested",
            "charge",
            "PaymentCharged",
            "OrderConfirmed",
            "order_confirmed",
            "ConfirmationSent",
        ],
    ),
    "declined": (
        declined,
        OrderStatus.CANCELLED,
        CancelReason.PAYMENT_DECLINED,
        ["OrderStockReserved", "PaymentRequested", "charge", "PaymentDeclined"],
    ),
    "short": (short, OrderStatus.CANCELLED, CancelReason.OUT_OF_STOCK, ["OrderCancelled"]),
    "cancel_confirmed": (
        cancel_confirmed,
        OrderStatus.CANCELLED,
        CancelReason.CANCELLED_BY_CUSTOMER,
        ["OrderStockReturned", "refund", "PaymentRefunded"],
    ),
    "cancel_reserved": (
        cancel_reserved,
        OrderStatus.CANCELLED,
        CancelReason.CANCELLED_BY_CUSTOMER,
        ["OrderStockReserved", "OrderStockReleased"],
    ),
    "cancel_requested": (
        cancel_requested,
        OrderStatus.CANCELLED,
        CancelReason.CANCELLED_BY_CUSTOMER,
        ["PaymentRequested", "OrderStockReleased", "charge", "PaymentCharged", "refund"],
    ),
}

CASES = [
    (name, Fault(target, after))
    for name, (_, _, _, targets) in SCENARIOS.items()
    for target in targets
    for after in (False, True)
]
MATRIX = [pytest.param(name, fault, id=f"{name}-{fault}") for name, fault in CASES]


@pytest.mark.parametrize(("scenario", "fault"), MATRIX)
def test_a_failure_at_any_step_changes_no_outcome(scenario: str, fault: Fault) -> None:
    run, status, reason, _ = SCENARIOS[scenario]
    world = World()
    fault.inject(world)
    order_ids = run(world)
    world.pump.run(twice=True)
    world.pump.redeliver_everything()
    assert fault.pending(world) == 0, f"{fault} never happened"
    (order_id,) = order_ids
    order = world.order(order_id)
    assert (order.state.status, order.state.reason) == (status, reason)
    world.check_books(order_ids)


def test_the_matrix_fails_every_step_before_and_after_its_effect() -> None:
    assert {fault.target for _, fault in CASES} >= {
        "OrderStockReserved",
        "PaymentRequested",
        "charge",
        "PaymentCharged",
        "PaymentDeclined",
        "OrderConfirmed",
        "order_confirmed",
        "ConfirmationSent",
        "OrderCancelled",
        "OrderStockReleased",
        "OrderStockReturned",
        "refund",
        "PaymentRefunded",
    }
    for name, fault in CASES:
        assert (name, Fault(fault.target, not fault.after_effect)) in CASES


# random interleavings

FAULTS = [
    Fault(target, after)
    for target in (
        "OrderStockReserved",
        "PaymentRequested",
        "PaymentCharged",
        "PaymentDeclined",
        "OrderConfirmed",
        "ConfirmationSent",
        "OrderCancelled",
        "OrderStockReleased",
        "PaymentRefunded",
        "charge",
        "refund",
        "order_confirmed",
    )
    for after in (False, True)
]

lines = st.lists(
    st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(min_value=1, max_value=2)),
    min_size=1,
    max_size=3,
)


def handling(world: World, order_id: str) -> Callable[[], object]:
    """A delivery of the order's newest event, run by another worker."""
    version = world.order(order_id).version
    return lambda: world.process.handle(order_id, version)


def cancelling(world: World, order_id: str) -> Callable[[], object]:
    return lambda: world.cancel_as_customer(order_id, CUSTOMER)


def _quietly(action: Callable[[], object]) -> Callable[[], None]:
    """`action`, run as another writer would: its failure is its own business."""

    def run() -> None:
        with contextlib.suppress(InjectedFailure, ConcurrencyError):
            action()

    return run


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_interleaving_of_deliveries_cancels_races_and_crashes_balances_the_books(
    data: st.DataObject,
) -> None:
    world = World(stock={"p1": 3, "p2": 2, "p3": 1})
    orders = [
        world.placed(
            *data.draw(lines),
            method=data.draw(
                st.sampled_from([SUCCEEDING_METHOD, SUCCEEDING_METHOD, DECLINED_METHOD])
            ),
        ).id
        for _ in range(data.draw(st.integers(min_value=1, max_value=4)))
    ]
    for fault in data.draw(st.lists(st.sampled_from(FAULTS), max_size=4)):
        fault.inject(world)
    for _ in range(data.draw(st.integers(min_value=0, max_value=80))):
        ready = world.pump.ready()
        if not ready:
            break
        action, order_id, other_id = data.draw(
            st.tuples(
                st.sampled_from(["deliver", "duplicate", "cancel", "race", "cancel_during"]),
                st.sampled_from(ready),
                st.sampled_from(orders),
            )
        )
        if action == "deliver":
            world.pump.deliver(order_id)
        elif action == "duplicate":
            world.pump.deliver(order_id, keep=True)
        elif action == "cancel":
            world.cancel_as_customer(other_id, CUSTOMER)
        elif action == "race":
            # Another order's step (or a duplicate of this one's) writes between this
            # step's load and its write.
            world.store.before_next_append(_quietly(handling(world, other_id)))
            world.pump.deliver(order_id)
        else:
            world.store.before_next_append(_quietly(cancelling(world, other_id)))
            world.pump.deliver(order_id)
    world.pump.run()
    world.pump.redeliver_everything()
    world.check_books(orders)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_two_orders_for_the_last_unit_confirm_exactly_one_however_interleaved(
    data: st.DataObject,
) -> None:
    world = World(stock={"p3": 1})
    orders = [world.placed(("p3", 1)).id, world.placed(("p3", 1)).id]
    while ready := world.pump.ready():
        order_id, other_id = data.draw(st.sampled_from(ready)), data.draw(st.sampled_from(orders))
        if data.draw(st.booleans()):
            world.store.before_next_append(_quietly(handling(world, other_id)))
        world.pump.deliver(order_id)
    states = sorted((world.order(o).state.status, world.order(o).state.reason) for o in orders)
    assert states == [
        (OrderStatus.CANCELLED, CancelReason.OUT_OF_STOCK),
        (OrderStatus.CONFIRMED, None),
    ]
    world.check_books(orders)
