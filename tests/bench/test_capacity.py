"""The capacity model's arithmetic (bench/capacity.py): units per flow, cost, and the highest
rate before one partition's limit, from counted accesses."""

from __future__ import annotations

import pytest

from bench.capacity import (
    FlowCost,
    Measured,
    Units,
    ceilings,
    combined,
    document,
    group_of,
    partition_name,
)
from devstack.partitions import Access

TABLES = {"t-events": "EventsTable", "t-views": "ViewsTable", "t-idem": "IdempotencyTable"}


def order(n: int) -> tuple[Access, ...]:
    """One order's accesses: its own stream, and one pointer every order checks."""
    return (
        Access("t-events", f"order-{n}", write_units=2, caller="OrderingCommandsFunction"),
        Access("t-views", "projection#ordering", write_units=4, caller="ProjectorFunction"),
        Access("t-views", "projection#ordering", read_units=0.5, caller="AuthorizerFunction"),
        Access("t-idem", "reader#order-process", write_units=1, caller="OrderProcessFunction"),
    )


def test_a_shared_partition_limits_the_flow_at_its_limit_over_its_units_per_flow() -> None:
    shared, alone = ceilings([order(n) for n in range(4)], TABLES)
    assert shared is not None
    assert alone is not None
    assert (shared.rate, shared.unit) == (1000 / 4, "write")
    assert shared.partition == "ViewsTable `projection#ordering`"
    # order-n was one order's alone: 2 units, so one order could repeat at 500/s
    assert (alone.rate, alone.unit) == (500, "write")


def test_reads_meet_their_own_limit_of_3000() -> None:
    instances = [(Access("t-views", "list", read_units=6),) for _ in range(3)]
    shared, alone = ceilings(instances, TABLES)
    assert shared is not None
    assert (shared.rate, shared.unit) == (500, "read")
    assert alone is None


def test_units_cost_on_demand_prices_per_million() -> None:
    assert Units(read=8, write=2).dollars_per_million() == pytest.approx(8 * 0.125 + 2 * 0.625)


def test_a_flows_units_are_per_instance_and_grouped_by_who_pays() -> None:
    flow = FlowCost("order", "", tuple(order(n) for n in range(2)))
    measured = Measured(tables=TABLES, routed={"OrderingCommandsFunction"})
    by = flow.by(group_of(measured))
    assert by == {
        "API handlers": Units(0, 2),
        "Projector": Units(0, 4),
        "Authorizer": Units(0.5, 0),
        "IdempotencyTable": Units(0, 1),
    }
    assert flow.total() == Units(0.5, 7)


def test_flows_combine_instance_by_instance() -> None:
    create = FlowCost("create", "", (order(1), order(2)))
    place = FlowCost("place", "", (order(3), order(4)))
    both = combined("an order", "", [create, place])
    assert both.count == 2
    assert both.total() == Units(1, 14)


def test_partition_names_hide_ids_so_runs_compare() -> None:
    ulid = Access("t-views", "ordering.1|order#01m94wck3z1qfc9p98pm6rjscz", index="gsi1")
    assert partition_name(ulid, TABLES) == "ViewsTable/gsi1 `ordering.1|order#<id>`"
    email = Access("t-events", "claim#email#ada@example.com")
    assert partition_name(email, TABLES) == "EventsTable `claim#email#<email>`"


def test_the_document_fails_the_goal_when_an_order_is_held_below_1000_per_second() -> None:
    measured = Measured(tables=TABLES, routed={"OrderingCommandsFunction"})
    measured.flows = [
        FlowCost("create an order", "`POST /orders`", tuple(order(n) for n in range(3))),
        FlowCost("place an order, to confirmation", "", tuple(order(n) for n in range(3))),
    ]
    from pathlib import Path

    text, ok = document(measured, Path(__file__).parent)
    assert not ok
    assert "Goal met: NO" in text
    assert "| an order |" in text
    assert "ViewsTable `projection#ordering` (writes)" in text


def test_a_readers_progress_slots_limit_the_flow_as_one_spread_not_by_the_busiest_slot() -> None:
    """Which of a reader's 16 slots the few instances' batches hash to is chance: 6 batches of
    5 orders in one slot would read as 833 orders/s. Spread, the slots take 1/16 each."""
    instances = [
        (Access("t-views", f"reader#projector#{15 if n < 2 else n}", write_units=3),)
        for n in range(5)
    ]
    shared, _ = ceilings(instances, TABLES)
    assert shared is not None
    assert shared.partition == "ViewsTable `reader#projector#<slot>`"
    assert shared.rate == pytest.approx(1000 / (3 / 16))


def test_the_parts_of_a_spread_collection_limit_the_flow_as_one_spread() -> None:
    """The admin's list of every order is 16 parts by order id; two of 5 orders in one part
    is chance, not a ceiling of 1,250 orders/s."""
    parts = ["orders#all", "orders#all#shard3", "orders#all#shard3", "orders#all#shard9"]
    instances = [(Access("t-views", f"ordering.1|{part}", write_units=2),) for part in parts]
    shared, _ = ceilings(instances, TABLES)
    assert shared is not None
    assert shared.partition == "ViewsTable `ordering.1|orders#all#<shard>`"
    assert shared.rate == pytest.approx(1000 / (2 / 16))
