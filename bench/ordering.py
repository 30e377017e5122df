"""Cost of the ordering commands and process steps, on an order of 1 and of MAX_LINES lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from bench.counting import RequestCounter, StoreCost
from domain.access import Caller, CommandContext, Role
from domain.catalog import service as catalog
from domain.catalog.commands import ActivateProduct, CreateCategory, CreateProduct
from domain.ordering import service as ordering
from domain.ordering.commands import (
    AddItem,
    CancelOrder,
    CreateOrder,
    PlaceOrder,
    RemoveItem,
    RequestedItem,
    SetStock,
)
from domain.ordering.inventory import MIN_SHARE, STOCK_BUCKETS
from domain.ordering.order import Order
from domain.ordering.process import OrderProcess
from domain.ordering.values import MAX_LINES
from infra.container import Container
from tests.fakes.ordering import SUCCEEDING_METHOD as VISA
from tests.fakes.ordering import FakeNotifier

ADMIN = CommandContext("bench", "bench", Caller("bench-admin", Role.ADMIN))
CUSTOMER = CommandContext("bench", "bench", Caller("bench-customer", Role.CUSTOMER))
LINE_COUNTS = (1, MAX_LINES)


@dataclass(frozen=True)
class Row:
    lines: int
    command: str
    streams: int
    """The streams the command reads: the order, and the product or inventories it needs."""
    cost: StoreCost
    marks: int = 0
    """Hold marks read after the write (a product taken: is it being deleted?)."""


def products(container: Container, count: int, prefix: str) -> list[str]:
    category = catalog.create_category(
        container.repository, CreateCategory(f"{prefix} things"), ADMIN
    )
    ids = []
    for n in range(count):
        created = catalog.create_product(
            container.repository,
            CreateProduct(f"{prefix} thing {n}", "", Decimal("2.00"), category.id),
            ADMIN,
        )
        catalog.activate(container.repository, ActivateProduct(created.id), ADMIN)
        # enough for every bucket (MIN_SHARE each): each line's home bucket holds it, as in
        # a sale; a line short at home reads all 32 buckets (docs/architecture.md)
        ordering.set_stock(
            container.repository,
            container.product_catalog,
            SetStock(created.id, STOCK_BUCKETS * MIN_SHARE),
            ADMIN,
        )
        ids.append(created.id)
    return ids


def measure(container: Container, events_table: str, counter: RequestCounter) -> list[Row]:
    rows: list[Row] = []
    for lines in LINE_COUNTS:
        rows += _measure_order(container, events_table, counter, lines)
    return rows


def _measure_order(
    container: Container, events_table: str, counter: RequestCounter, lines: int
) -> list[Row]:
    rows: list[Row] = []

    def count(command: str, streams: int, act: Callable[[], object], marks: int = 0) -> None:
        counter.reset()
        act()
        rows.append(
            Row(
                lines=lines,
                command=command,
                streams=streams,
                cost=counter.cost(events_table),
                marks=marks,
            )
        )

    repository, catalog = container.repository, container.product_catalog
    # Emails are not what is measured (and touch no table here).
    process = OrderProcess(container.repository, container.payments, FakeNotifier())
    spare, *ids = products(container, lines + 1, f"n{lines}")
    order = ordering.create_order(
        repository, catalog, CreateOrder((RequestedItem(ids[0], 1),)), CUSTOMER
    )
    for product_id in ids[1:]:
        ordering.add_item(repository, catalog, AddItem(order.id, product_id, 1), CUSTOMER)
    if lines < MAX_LINES:
        count(
            "add an item",
            2,
            lambda: ordering.add_item(repository, catalog, AddItem(order.id, spare, 1), CUSTOMER),
            marks=1,
        )
        count(
            "remove an item",
            1,
            lambda: ordering.remove_item(repository, RemoveItem(order.id, spare), CUSTOMER),
        )
    count(
        "place",
        1 + lines,
        lambda: ordering.place(
            repository, catalog, container.payments, PlaceOrder(order.id, VISA), CUSTOMER
        ),
    )
    count("process: reserve stock", 1 + lines, lambda: process.handle(order.id, 0))
    while container.repository.load(Order, order.id).next_step() is not None:
        process.handle(order.id, 0)
    count(
        "cancel (confirmed: stock back)",
        1 + lines,
        lambda: ordering.cancel(repository, CancelOrder(order.id), CUSTOMER),
    )
    return rows
