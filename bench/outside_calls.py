"""Orders per second one stream shard can drive, with a payment provider that takes 300 ms
per charge: before (the order process calls it inside the stream loop) and after (the
calls run from the outside-calls queue).

One shard is one sequential loop over the order streams' events (in-memory store and
fakes, no AWS): what the order process's reader does per shard at ParallelizationFactor 1.
`before` hands every event to `ProcessManager.handle` (every step, the charge included);
`after` to `Processes.step_in_store`, which sends each due charge and email to a queue
that another loop drains (Lambda's SQS consumers, concurrent with the shard). Counted:
the provider calls made inside stream batches, and the seconds the stream loop was busy
(a ratio against the `before` run of the same process)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from domain.access import Caller, CommandContext, Role
from domain.catalog import service as catalog
from domain.catalog.commands import ActivateProduct, CreateCategory, CreateProduct
from domain.ordering import service as ordering
from domain.ordering.commands import CreateOrder, PlaceOrder, RequestedItem, SetStock
from domain.ordering.order import Order, OrderStatus
from domain.ordering.ports import Charge, PaymentGateway, Refund
from domain.processes import ORDER_STREAMS
from event_sourcing.process import DueWork, Processes, WorkQueue
from event_sourcing.testing.memory import InMemoryEventStore
from tests.fakes.container import InMemoryContainer
from tests.fakes.ordering import SUCCEEDING_METHOD, FakePayments

ADMIN = CommandContext("bench", "bench", Caller("bench-admin", Role.ADMIN))
CHARGE_SECONDS = 0.3
ORDERS = 10


class SlowProvider(PaymentGateway):
    """The fake provider, 300 ms per charge; counts the charges made while `in_stream`."""

    def __init__(self) -> None:
        self.inner = FakePayments()
        self.in_stream = False
        self.charges = 0
        self.charges_in_stream = 0

    def is_supported(self, payment_method: str) -> bool:
        return self.inner.is_supported(payment_method)

    def charge(
        self, *, idempotency_key: str, amount: Decimal, payment_method: str, description: str
    ) -> Charge:
        time.sleep(CHARGE_SECONDS)
        self.charges += 1
        self.charges_in_stream += self.in_stream
        return self.inner.charge(
            idempotency_key=idempotency_key,
            amount=amount,
            payment_method=payment_method,
            description=description,
        )

    def refund(self, *, idempotency_key: str, charge_id: str, amount: Decimal) -> Refund:
        return self.inner.refund(
            idempotency_key=idempotency_key, charge_id=charge_id, amount=amount
        )


class ListQueue(WorkQueue):
    def __init__(self) -> None:
        self.waiting: list[DueWork] = []
        self.sent = 0

    def send(self, work: DueWork) -> None:
        self.waiting.append(work)
        self.sent += 1


class BenchContainer(InMemoryContainer):
    def __init__(self, provider: SlowProvider) -> None:
        super().__init__()
        self.provider = provider

    @property
    def payments(self) -> PaymentGateway:
        return self.provider


@dataclass
class Run:
    mode: str
    orders: int
    stream_seconds: float = 0.0
    """Time the shard's loop spent handling records."""
    charges: int = 0
    charges_in_stream: int = 0
    messages: int = 0
    confirmed: int = 0
    settled_seconds: float = 0.0
    """From the first record to the last order confirmed and mailed (wall time)."""
    records: list[int] = field(default_factory=list)

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.stream_seconds if self.stream_seconds else 0.0


def _shop(container: InMemoryContainer, orders: int) -> list[str]:
    """`orders` placed orders of distinct customers for distinct products."""
    category = catalog.create_category(container.repository, CreateCategory("bench things"), ADMIN)
    placed = []
    for n in range(orders):
        product = catalog.create_product(
            container.repository,
            CreateProduct(f"bench thing {n}", "", Decimal("2.00"), category.id),
            ADMIN,
        )
        catalog.activate(container.repository, ActivateProduct(product.id), ADMIN)
        ordering.set_stock(
            container.repository, container.product_catalog, SetStock(product.id, 10), ADMIN
        )
        customer = CommandContext("bench", "bench", Caller(f"customer-{n}", Role.CUSTOMER))
        order = ordering.create_order(
            container.repository,
            container.product_catalog,
            CreateOrder((RequestedItem(product.id, 1),)),
            customer,
        )
        ordering.place(
            container.repository,
            container.product_catalog,
            container.payments,
            PlaceOrder(order.id, SUCCEEDING_METHOD),
            customer,
        )
        placed.append(order.id)
    return placed


def run(mode: str, orders: int = ORDERS) -> Run:
    """One shard driving `orders` placed orders to confirmed and mailed."""
    provider = SlowProvider()
    container = BenchContainer(provider)
    ids = _shop(container, orders)
    store = container.event_store
    assert isinstance(store, InMemoryEventStore)
    processes: Processes = container.processes
    queue = ListQueue()
    result = Run(mode, orders)
    seen: dict[str, int] = {}
    started = time.perf_counter()
    while True:
        # the shard: every order event not yet handed over, in order per stream
        fresh = [
            (stream_id, event.version)
            for stream_id in sorted(store.stream_ids())
            if stream_id.startswith(ORDER_STREAMS)
            for event in store.read(stream_id)
            if event.version > seen.get(stream_id, 0)
        ]
        provider.in_stream = True
        shard_started = time.perf_counter()
        last = dict(fresh)  # as the reader's batch
        for stream_id, version in fresh:
            seen[stream_id] = version
            if mode == "before":
                processes.handle(stream_id, version)
            else:
                processes.step_in_store(
                    stream_id,
                    version,
                    correlation_id=stream_id,
                    causation_id=f"{stream_id}@{version}",
                    queue=queue,
                    send=last[stream_id] == version,
                )
        result.stream_seconds += time.perf_counter() - shard_started
        provider.in_stream = False
        # the queue's consumers, beside the shard
        waiting, queue.waiting = queue.waiting, []
        for work in waiting:
            processes.call_out(work)
        if not fresh and not waiting:
            break
    result.settled_seconds = time.perf_counter() - started
    result.charges, result.charges_in_stream = provider.charges, provider.charges_in_stream
    result.messages = queue.sent
    orders_done = [container.repository.load(Order, oid).state for oid in ids]
    result.confirmed = sum(
        1
        for state in orders_done
        if state.status is OrderStatus.CONFIRMED and state.confirmation_id is not None
    )
    return result


def measure(orders: int = ORDERS) -> tuple[Run, Run]:
    return run("before", orders), run("after", orders)
