"""The ordering context on fakes, and a stand-in for the DynamoDB stream that drives the
order process: at-least-once, in order per stream, redelivering a record until its
handler succeeds, with crashes wherever a test asks for them."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.access import Caller, CommandContext, Role
from domain.errors import RuleViolation
from domain.ordering import service as ordering
from domain.ordering.commands import CancelOrder, CreateOrder, PlaceOrder, RequestedItem, SetStock
from domain.ordering.inventory import Inventory, Stock, bucket_ids
from domain.ordering.order import Order, OrderStatus, Step
from domain.ordering.process import (
    OrderProcess,
    cancellation_key,
    charge_key,
    confirmation_key,
    refund_key,
)
from event_sourcing.errors import ConcurrencyError
from event_sourcing.repository import Append, EventSourcedRepository, StreamTail
from event_sourcing.testing.memory import InMemoryEventStore, ManualClock, SequentialIds
from tests.fakes.ordering import (
    SUCCEEDING_METHOD,
    FakeCatalog,
    FakeNotifier,
    FakePayments,
    InjectedFailure,
)

ADMIN = CommandContext("corr", "cause", Caller("admin1", Role.ADMIN))
CUSTOMER = CommandContext("corr", "cause", Caller("cust1", Role.CUSTOMER))
OTHER_CUSTOMER = CommandContext("corr", "cause", Caller("cust2", Role.CUSTOMER))
ANON = CommandContext("corr", "cause")

STEP_OUTCOMES = (
    "OrderStockReserved",
    "PaymentRequested",
    "PaymentCharged",
    "PaymentDeclined",
    "OrderConfirmed",
    "ConfirmationSent",
    "OrderCancelled",
    "OrderStockReleased",
    "OrderStockReturned",
    "PaymentRefunded",
    "CancellationSent",
)
"""Event types an order records at most once."""


@dataclass
class _AppendFault:
    event_type: str
    after_effect: bool


class FlakyStore(InMemoryEventStore):
    """The in-memory store, able to fail an append once (before or after it is written)
    and to run something just before an append (another writer getting in first)."""

    def __init__(self) -> None:
        super().__init__()
        self._faults: list[_AppendFault] = []
        self._before_next_append: list[Callable[[], object]] = []
        self.appends = 0
        self.reads: list[str] = []
        """The streams read, in turn (a stream's tail: one Query on DynamoDB)."""

    def tail(self, stream_id: str, *, window: int) -> StreamTail:
        self.reads.append(stream_id)
        return super().tail(stream_id, window=window)

    def fail_append_of(self, event_type: str, *, after_effect: bool = False) -> None:
        """Fail the next append that holds an event of `event_type`."""
        self._faults.append(_AppendFault(event_type, after_effect))

    def before_next_append(self, interloper: Callable[[], object]) -> None:
        """Run `interloper` once, just before the next append (after its writer loaded)."""
        self._before_next_append.append(interloper)

    @property
    def faults_pending(self) -> int:
        return len(self._faults)

    def append(self, *appends: Append, **guards: Any) -> None:
        if self._before_next_append:
            self._before_next_append.pop(0)()
        types = {event.type for append in appends for event in append.events}
        fault = next((f for f in self._faults if f.event_type in types), None)
        if fault is not None:
            self._faults.remove(fault)
            if not fault.after_effect:
                raise InjectedFailure(f"append of {fault.event_type} failed before writing")
        super().append(*appends, **guards)
        self.appends += 1
        if fault is not None:
            raise InjectedFailure(f"append of {fault.event_type} failed after writing")


class Pump:
    """Delivers every event of every order stream to the order process, in order per
    stream; a record whose handling fails stays at the head of its stream, to be
    delivered again (as Lambda retries a failed stream record)."""

    def __init__(self, store: InMemoryEventStore, process: OrderProcess) -> None:
        self.store = store
        self.process = process
        self.queues: dict[str, deque[int]] = {}
        self._seen: dict[str, int] = {}
        self.failures = 0
        self.deliveries = 0
        self.steps: list[tuple[str, Step]] = []

    def poll(self) -> None:
        """Enqueue the events appended since the last poll."""
        for stream_id in self.store.stream_ids():
            if not stream_id.startswith(f"{Order.stream_prefix}-"):
                continue
            order_id = stream_id.removeprefix(f"{Order.stream_prefix}-")
            versions = [e.version for e in self.store.read(stream_id)]
            seen = self._seen.get(order_id, 0)
            fresh = [v for v in versions if v > seen]
            if fresh:
                self.queues.setdefault(order_id, deque()).extend(fresh)
                self._seen[order_id] = fresh[-1]

    def ready(self) -> list[str]:
        self.poll()
        return sorted(order_id for order_id, queue in self.queues.items() if queue)

    def deliver(self, order_id: str, *, keep: bool = False) -> bool:
        """Deliver the head of the order's stream; it stays queued if handling fails (or
        if `keep`: a duplicate delivery). Answers whether handling succeeded."""
        queue = self.queues[order_id]
        version = queue[0]
        self.deliveries += 1
        try:
            step = self.process.handle(order_id, version)
        except (InjectedFailure, ConcurrencyError):
            self.failures += 1
            return False
        if step is not None:
            self.steps.append((order_id, step))
        if not keep:
            queue.popleft()
        return True

    def run(self, *, limit: int = 1000, twice: bool = False) -> None:
        """Deliver until no record is left (round robin over the streams); with `twice`,
        every record is delivered a second time right after its first delivery."""
        for _ in range(limit):
            ready = self.ready()
            if not ready:
                return
            for order_id in ready:
                if twice:
                    self.deliver(order_id, keep=True)
                self.deliver(order_id)
        raise AssertionError(f"not quiet after {limit} rounds: {self.queues}")

    def redeliver_everything(self) -> None:
        """Every event of every order stream once more, in order, then until quiet."""
        for stream_id in list(self.store.stream_ids()):
            if stream_id.startswith(f"{Order.stream_prefix}-"):
                order_id = stream_id.removeprefix(f"{Order.stream_prefix}-")
                versions = [e.version for e in self.store.read(stream_id)]
                self.queues.setdefault(order_id, deque()).extend(versions)
        self.run()


@dataclass
class World:
    """Everything ordering needs, on fakes, with products p1 (12.50), p2 (7.25) and p3
    (3.10) in the catalogue, and `stock` counted in."""

    stock: dict[str, int] = field(default_factory=lambda: {"p1": 10, "p2": 10, "p3": 10})

    def __post_init__(self) -> None:
        self.clock = ManualClock()
        self.store = FlakyStore()
        self.repository = EventSourcedRepository(self.store, self.clock, SequentialIds("o"))
        self.catalog = FakeCatalog()
        self.catalog.add("p1", "Spade", "12.50")
        self.catalog.add("p2", "Rake", "7.25")
        self.catalog.add("p3", "Hoe", "3.10")
        self.payments = FakePayments()
        self.notifier = FakeNotifier()
        self.process = OrderProcess(self.repository, self.payments, self.notifier)
        self.pump = Pump(self.store, self.process)
        for product_id, on_hand in self.stock.items():
            ordering.set_stock(self.repository, self.catalog, SetStock(product_id, on_hand), ADMIN)

    def placed(
        self,
        *items: tuple[str, int],
        method: str = SUCCEEDING_METHOD,
        context: CommandContext = CUSTOMER,
    ) -> Order:
        """A placed order of `items` (product id, quantity), not yet processed."""
        lines = tuple(RequestedItem(p, q) for p, q in items or (("p1", 2), ("p2", 1)))
        draft = ordering.create_order(self.repository, self.catalog, CreateOrder(lines), context)
        return self.place(draft.id, method, context)

    def place(
        self,
        order_id: str,
        method: str = SUCCEEDING_METHOD,
        context: CommandContext = CUSTOMER,
        expected_version: int | None = None,
    ) -> Order:
        """`ordering.place` with this world's catalogue and payments."""
        placing = PlaceOrder(order_id, method)
        return ordering.place(
            self.repository, self.catalog, self.payments, placing, context, expected_version
        )

    def cancel_as_customer(self, order_id: str, context: CommandContext = CUSTOMER) -> None:
        """The customer cancels, retrying after a failure, as a client with an
        idempotency key would (a retry after a cancel that was stored is refused)."""
        for _ in range(5):
            try:
                ordering.cancel(self.repository, CancelOrder(order_id), context)
            except InjectedFailure:
                continue
            except RuleViolation as refused:
                if refused.code != "cannot_cancel":
                    raise
            return
        raise AssertionError("the cancel kept failing")

    def order(self, order_id: str) -> Order:
        return self.repository.load(Order, order_id)

    def inventory(self, product_id: str) -> Summed:
        return stock_of(self.repository, product_id)

    def types(self, order_id: str) -> list[str]:
        return [e.type for e in self.repository.history(Order, order_id)]

    def check_books(self, order_ids: Sequence[str]) -> None:
        """Every order finished, and stock, payments and messages agree with the orders."""
        sold: Counter[str] = Counter()
        for order_id in order_ids:
            order = self.order(order_id)
            assert order.state.status in (OrderStatus.CONFIRMED, OrderStatus.CANCELLED)
            assert order.next_step() is None
            counts = Counter(self.types(order_id))
            assert all(counts[t] <= 1 for t in STEP_OUTCOMES), counts
            charges = self.payments.succeeded_charges(charge_key(order_id))
            refunds = [
                r for r in self.payments.refunds if r.idempotency_key == refund_key(order_id)
            ]
            messages = [
                m for m in self.notifier.sent if m.idempotency_key == confirmation_key(order_id)
            ]
            assert (
                len([c for c in self.payments.charges if c.idempotency_key == charge_key(order_id)])
                <= 1
            )
            if order.state.status is OrderStatus.CONFIRMED:
                for line in order.state.held:
                    sold[line.product_id] += line.quantity
                assert len(charges) == 1
                assert charges[0].charge.charge_id == order.state.charge_id
                assert charges[0].amount == order.state.total
                assert refunds == []
                assert len(messages) == 1
                assert messages[0].message_id == order.state.confirmation_id
            else:
                assert len(charges) == len(refunds) <= 1
                if refunds:
                    assert refunds[0].amount == charges[0].amount
                    assert refunds[0].refund.refund_id == order.state.refund_id
                assert len(messages) <= 1
            told = [
                m
                for m in self.notifier.cancellations
                if m.idempotency_key == cancellation_key(order_id)
            ]
            assert len(told) == (1 if order.state.cancellation_due else 0), told
        for product_id, on_hand in self.stock.items():
            inventory = self.inventory(product_id)
            assert inventory.state.on_hand == on_hand - sold[product_id], product_id
            assert inventory.state.reserved == 0, product_id
            buckets = self.repository.load_many(Inventory, bucket_ids(product_id)).values()
            assert all(b.state.reservations == {} for b in buckets), product_id


HAPPY_PATH = [
    "OrderCreated",
    "OrderItemAdded",
    "OrderItemAdded",
    "OrderPlaced",
    "OrderStockReserved",
    "PaymentRequested",
    "PaymentCharged",
    "OrderConfirmed",
    "ConfirmationSent",
]
"""The events of an order created with two lines, placed, paid and confirmed by email."""


@dataclass(frozen=True)
class Summed:
    """A product's stock over its buckets: what a test asks of "the inventory"."""

    state: Stock
    version: int
    """Every bucket's version summed: any write to any of them moves it."""
    exists: bool


def stock_of(repository: EventSourcedRepository, product_id: str) -> Summed:
    buckets = repository.load_many(Inventory, bucket_ids(product_id)).values()
    return Summed(
        Stock.of(product_id, buckets),
        sum(b.version for b in buckets),
        any(b.exists for b in buckets),
    )
