"""Stock: counted by admins, reserved by orders, never below zero available."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Forbidden, InvalidValue, NotFound, RuleViolation, Unauthenticated
from domain.ordering import service as ordering
from domain.ordering.commands import SetStock
from domain.ordering.inventory import (
    MIN_SHARE,
    STOCK_BUCKETS,
    Inventory,
    StockCommitted,
    StockReleased,
    StockReserved,
    StockReturned,
    StockSet,
    bucket_ids,
    home_bucket,
)
from domain.ordering.order import CancelReason, StockStatus
from domain.ordering.values import StockLine
from event_sourcing.errors import VersionMismatch
from tests.domain.ordering.support import ADMIN, ANON, CUSTOMER, World


def stocked(on_hand: int) -> Inventory:
    inventory = Inventory.blank("p1")
    inventory.set_on_hand(on_hand, "admin1")
    return inventory


# counting


def test_an_admin_counts_the_stock_over_every_bucket_in_one_write(world: World) -> None:
    appends = world.store.appends
    stock = ordering.set_stock(
        world.repository, world.catalog, SetStock("p1", 70), ADMIN, expected_version=1
    )
    assert world.store.appends == appends + 1
    assert (stock.on_hand, stock.reserved, stock.available) == (70, 0, 70)
    assert stock.version == 2  # the first bucket's: the product's stream from before buckets
    counts = [world.repository.load(Inventory, b).state.on_hand for b in bucket_ids("p1")]
    # as many buckets as get MIN_SHARE (16) each: four, the first two with the remainder
    assert counts == [18, 18, 17, 17] + [0] * (STOCK_BUCKETS - 4)
    recorded = world.repository.history(Inventory, "p1")[-1]
    assert world.repository.events.decode(recorded) == StockSet(18, "admin1")
    assert ordering.inventory(world.repository, "p1", ADMIN.caller) == stock


def test_a_large_count_fills_every_bucket(world: World) -> None:
    ordering.set_stock(
        world.repository, world.catalog, SetStock("p1", STOCK_BUCKETS * MIN_SHARE * 3 + 5), ADMIN
    )
    counts = [world.repository.load(Inventory, b).state.on_hand for b in bucket_ids("p1")]
    assert counts == [49] * 5 + [48] * (STOCK_BUCKETS - 5)


def test_a_product_never_counted_has_no_stock(world: World) -> None:
    world.catalog.add("p9", "Trowel", "4.00")
    stock = ordering.inventory(world.repository, "p9", ADMIN.caller)
    assert (stock.version, stock.on_hand, stock.available) == (0, 0, 0)
    counted = ordering.set_stock(
        world.repository, world.catalog, SetStock("p9", 0), ADMIN, expected_version=0
    )
    assert counted.version == 1
    assert [b for b in bucket_ids("p9") if world.repository.head(Inventory, b)] == ["p9"]


def test_a_small_stock_stays_in_the_first_bucket_and_leaves_the_rest_unwritten(
    world: World,
) -> None:
    world.catalog.add("p9", "Trowel", "4.00")
    ordering.set_stock(world.repository, world.catalog, SetStock("p9", 40), ADMIN)
    written = [b for b in bucket_ids("p9") if world.repository.head(Inventory, b)]
    assert written == ["p9", "p9~1"]  # 20 each: two buckets of at least 16


def test_the_same_count_records_nothing(world: World) -> None:
    assert (
        ordering.set_stock(world.repository, world.catalog, SetStock("p1", 10), ADMIN).version == 1
    )


@pytest.mark.parametrize("on_hand", [-1, 1_000_001, True, 1.0, "5", None])
def test_a_count_is_a_whole_number_from_0(world: World, on_hand: Any) -> None:
    with pytest.raises(InvalidValue) as refused:
        ordering.set_stock(world.repository, world.catalog, SetStock("p1", on_hand), ADMIN)
    assert refused.value.code == "invalid_on_hand"
    assert refused.value.details[0].field == "on_hand"


def test_only_catalogue_products_are_counted(world: World) -> None:
    with pytest.raises(NotFound) as missing:
        ordering.set_stock(world.repository, world.catalog, SetStock("ghost", 3), ADMIN)
    assert missing.value.code == "product_not_found"


def test_counting_and_reading_stock_is_for_admins(world: World) -> None:
    with pytest.raises(Forbidden):
        ordering.set_stock(world.repository, world.catalog, SetStock("p1", 3), CUSTOMER)
    with pytest.raises(Forbidden):
        ordering.inventory(world.repository, "p1", CUSTOMER.caller)
    with pytest.raises(Unauthenticated):
        ordering.set_stock(world.repository, world.catalog, SetStock("p1", 3), ANON)


def test_a_stale_count_is_refused(world: World) -> None:
    with pytest.raises(VersionMismatch) as stale:
        ordering.set_stock(
            world.repository, world.catalog, SetStock("p1", 3), ADMIN, expected_version=0
        )
    assert (stale.value.expected, stale.value.actual) == (0, 1)


def test_stock_cannot_be_set_below_what_is_reserved(world: World) -> None:
    world.placed(("p1", 4))
    world.pump.run()  # confirmed: 6 on hand, none reserved
    order = world.placed(("p1", 3))
    world.process.handle(order.id, order.version)  # reserved, not yet paid
    assert world.inventory("p1").state.reserved == 3
    with pytest.raises(RuleViolation) as refused:
        ordering.set_stock(world.repository, world.catalog, SetStock("p1", 2), ADMIN)
    assert refused.value.code == "below_reserved"
    assert refused.value.details[0].issue == "at least 3"
    assert (
        ordering.set_stock(world.repository, world.catalog, SetStock("p1", 3), ADMIN).available == 0
    )
    buckets = [world.repository.load(Inventory, b) for b in bucket_ids("p1")]
    assert all(b.state.on_hand == b.state.reserved for b in buckets)  # what is reserved stays


# reserving


@pytest.mark.parametrize(
    ("on_hand", "wanted", "reservable"),
    [
        (0, [1], [False]),
        (1, [1, 1], [True, False]),
        (5, [2, 3, 1], [True, True, False]),
        (5, [6, 5], [False, True]),
        (1000, [1000], [True]),
    ],
)
def test_a_reservation_never_makes_available_negative(
    on_hand: int, wanted: list[int], reservable: list[bool]
) -> None:
    inventory = stocked(on_hand)
    outcomes: list[str] = []
    for n, quantity in enumerate(wanted):
        try:
            inventory.reserve(f"o{n}", quantity)
            outcomes.append("reserved")
        except RuleViolation as refused:
            outcomes.append(refused.code)
        assert inventory.state.available >= 0
    assert outcomes == ["reserved" if ok else "out_of_stock" for ok in reservable]


def test_an_order_reserves_once(world: World) -> None:
    inventory = stocked(5)
    inventory.reserve("o1", 2)
    inventory.reserve("o1", 2)
    assert inventory.pending[-1] == StockReserved("o1", 2)
    assert (inventory.state.reserved, inventory.state.reservations) == (2, {"o1": 2})


def test_release_gives_back_what_the_order_holds_once() -> None:
    inventory = stocked(5)
    inventory.reserve("o1", 2)
    inventory.reserve("o2", 1)
    inventory.release("o1")
    inventory.release("o1")
    inventory.release("never")
    assert inventory.pending[-1] == StockReleased("o1", 2)
    assert len(inventory.pending) == 4
    assert (inventory.state.on_hand, inventory.state.reserved) == (5, 1)
    assert inventory.state.reservations == {"o2": 1}


def test_commit_sells_what_the_order_holds_once() -> None:
    inventory = stocked(5)
    inventory.reserve("o1", 2)
    inventory.commit("o1")
    inventory.commit("o1")
    assert inventory.pending[-1] == StockCommitted("o1", 2)
    assert (inventory.state.on_hand, inventory.state.reserved, inventory.state.available) == (
        3,
        0,
        3,
    )


def test_returned_units_are_back_on_hand() -> None:
    inventory = stocked(5)
    inventory.reserve("o1", 2)
    inventory.commit("o1")
    inventory.give_back("o1", 2)
    assert inventory.pending[-1] == StockReturned("o1", 2)
    assert (inventory.state.on_hand, inventory.state.reserved) == (5, 0)


def test_an_inventory_replays_and_restores_to_the_same_state() -> None:
    inventory = stocked(9)
    inventory.reserve("o1", 2)
    inventory.reserve("o2", 3)
    inventory.commit("o1")
    replayed = Inventory.rebuild("p1", inventory.pending)
    assert replayed.state == inventory.state
    restored = Inventory.restore("p1", inventory.version, inventory.snapshot_state())
    assert restored.state == inventory.state


operations = st.lists(
    st.tuples(
        st.sampled_from(["set", "reserve", "release", "commit"]),
        st.integers(min_value=0, max_value=4),
        st.integers(min_value=0, max_value=12),
    ),
    max_size=40,
)


@given(operations)
def test_no_sequence_of_operations_breaks_the_stock_arithmetic(
    ops: list[tuple[str, int, int]],
) -> None:
    inventory = stocked(6)
    refusals: set[str] = set()
    for name, order, amount in ops:
        order_id = f"o{order}"
        try:
            if name == "set":
                inventory.set_on_hand(amount, "admin1")
            elif name == "reserve":
                inventory.reserve(order_id, max(amount, 1))
            elif name == "release":
                inventory.release(order_id)
            else:
                inventory.commit(order_id)
        except RuleViolation as refused:
            refusals.add(refused.code)
        state = inventory.state
        assert 0 <= state.reserved <= state.on_hand
        assert state.reserved == sum(state.reservations.values())
        assert all(q > 0 for q in state.reservations.values())
    assert refusals <= {"out_of_stock", "below_reserved"}
    assert Inventory.rebuild("p1", inventory.pending).state == inventory.state


# buckets: a product's stock spread over streams


def test_an_order_reserves_from_its_home_bucket_alone_when_that_one_has_enough(
    world: World,
) -> None:
    ordering.set_stock(
        world.repository, world.catalog, SetStock("p1", 32 * 16), ADMIN
    )  # sixteen in every bucket
    order = world.placed(("p1", 3))
    before = len(world.store.reads)
    world.process.handle(order.id, order.version)
    held = world.order(order.id).state.held
    assert held == (StockLine("p1", 3, home_bucket("p1", order.id)),)
    read = [s for s in world.store.reads[before:] if s.startswith("inventory-")]
    assert read == [f"inventory-{home_bucket('p1', order.id)}"]  # one bucket read


def test_a_line_its_home_bucket_cannot_hold_is_spread_over_the_others(world: World) -> None:
    ordering.set_stock(
        world.repository, world.catalog, SetStock("p1", 32 * 16), ADMIN
    )  # sixteen in every bucket
    order = world.placed(("p1", 40))
    world.process.handle(order.id, order.version)
    held = world.order(order.id).state.held
    assert sum(line.quantity for line in held) == 40
    assert held[0].stock_id == home_bucket("p1", order.id)
    assert len({line.stock_id for line in held}) == 3
    assert world.inventory("p1").state.reserved == 40


def test_out_of_stock_only_when_all_the_buckets_together_are_short(world: World) -> None:
    ordering.set_stock(
        world.repository, world.catalog, SetStock("p1", 4), ADMIN
    )  # in the first bucket
    enough = world.placed(("p1", 4))
    world.process.handle(enough.id, enough.version)
    assert world.order(enough.id).state.stock is StockStatus.RESERVED
    short = world.placed(("p1", 1))
    world.process.handle(short.id, short.version)
    assert world.order(short.id).state.reason is CancelReason.OUT_OF_STOCK


@given(
    on_hand=st.integers(0, 80),
    wanted=st.lists(st.integers(1, 9), min_size=1, max_size=12),
)
def test_however_the_stock_is_spread_no_order_is_refused_while_the_total_holds_it(
    on_hand: int, wanted: list[int]
) -> None:
    world = World()
    ordering.set_stock(world.repository, world.catalog, SetStock("p3", on_hand), ADMIN)
    left = on_hand
    for quantity in wanted:
        order = world.placed(("p3", quantity))
        world.process.handle(order.id, order.version)
        reserved = world.order(order.id).state.stock is StockStatus.RESERVED
        assert reserved == (quantity <= left)  # never oversold, never refused needlessly
        left -= quantity if reserved else 0
    assert world.inventory("p3").state.available == left


def test_orders_of_one_product_append_to_different_buckets(world: World) -> None:
    ordering.set_stock(world.repository, world.catalog, SetStock("p1", 32 * 16), ADMIN)
    orders = [world.placed(("p1", 1)) for _ in range(64)]
    for order in orders:
        world.process.handle(order.id, order.version)
    buckets = {world.order(o.id).state.held[0].stock_id for o in orders}
    assert len(buckets) >= 24  # 64 orders hash over 32 buckets


def test_orders_that_miss_their_home_bucket_spread_over_the_buckets_with_stock(
    world: World,
) -> None:
    ordering.set_stock(
        world.repository, world.catalog, SetStock("p1", 4 * 16), ADMIN
    )  # four buckets of sixteen
    orders = [world.placed(("p1", 1)) for _ in range(40)]
    for order in orders:
        world.process.handle(order.id, order.version)
    taken = Counter(world.order(o.id).state.held[0].stock_id for o in orders)
    assert set(taken) == set(bucket_ids("p1")[:4])
    assert max(taken.values()) <= 16  # none drained first while the others wait
