"""No partition that every order writes (issue #20, item 1), measured as the acceptance
check measures it: orders of distinct customers for distinct products, through the real
handlers on moto (create, place, then the projector's and the order process's batches to
confirmation), counting the writes and condition checks that land on each
partition of every table and index (bench/partitions.py). The most written partition takes
as much after 30 orders as after 10: nothing grows with the number of orders.

Products and customers are made before counting: a product's activation writes the
catalogue's listings (their spreading is the search's concern, issue #20 item 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.partitions import Partition, PartitionCounter
from infra import container as composition
from tests.functions.conftest import open_stack
from tests.functions.test_ordering_http import Shop

SLACK = 2
"""The most written partition may take this many more requests in the larger phase: a
constant (a batch more of some reader), never a share of the orders."""


@pytest.fixture(scope="module")
def measured() -> Iterator[dict[int, PartitionCounter]]:
    with pytest.MonkeyPatch.context() as patch, open_stack(patch) as stack:
        shop = Shop(stack)
        counter = PartitionCounter.of(composition.container().dynamodb)
        phases = {}
        for orders in (10, 30):
            buyers = [_buyer(shop, f"p{orders}n{n}") for n in range(orders)]
            stack.run_process()
            counter.reset()
            placed = [_buy(shop, token, product) for token, product in buyers]
            assert stack.run_process() == []
            for order_id in placed:
                assert shop.view(order_id)["status"] == "confirmed"
            phases[orders] = PartitionCounter(
                counter.keys, counter.writes.copy(), counter.checks.copy()
            )
        yield phases


def _buyer(shop: Shop, name: str) -> tuple[str, str]:
    return shop.customer(name), shop.product(f"Thing {name}", stock=5)


def _buy(shop: Shop, token: str, product: str) -> str:
    order = shop.order(token, (product, 1))
    shop.place(token, order["id"])
    return str(order["id"])


def test_the_most_written_partition_does_not_grow_with_the_number_of_orders(
    measured: dict[int, PartitionCounter],
) -> None:
    small, large = measured[10], measured[30]
    report = "\n".join(
        f"{orders} orders: " + ", ".join(f"{p} x{n}" for p, n in phase.hottest(5))
        for orders, phase in measured.items()
    )
    assert large.most() <= small.most() + SLACK, report


def test_no_partition_takes_a_write_for_every_order(
    measured: dict[int, PartitionCounter],
) -> None:
    large = measured[30]
    every: list[Partition] = [p for p, n in large.units().items() if n >= 30]
    assert every == [], every


def test_no_commit_checks_a_generation_pointer(measured: dict[int, PartitionCounter]) -> None:
    checked = [p for phase in measured.values() for p in phase.checks if "projection#" in p.key]
    assert checked == []


def test_the_admin_list_of_orders_is_spread_over_partitions(
    measured: dict[int, PartitionCounter],
) -> None:
    listed = [p for p in measured[30].writes if "orders#all" in p.key]
    assert len(listed) >= 8, listed
