"""The Order aggregate: the seed's `Order`, decided by events, and the state of its process.

An order is a draft while its customer fills it, then placed, then confirmed; or cancelled
with a reason. What the order process has done so far (stock, payment, confirmation) is
part of its state, so `next_step` can say what is left to do, whatever was redelivered or
interrupted before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain import holds
from domain.access import Caller
from domain.errors import Detail, RuleViolation
from domain.ordering.inventory import Inventory, bucket_ids, home_bucket, spread_of
from domain.ordering.ports import Charge, ProductInfo, Refund
from domain.ordering.values import (
    MAX_LINES,
    MAX_QUANTITY,
    OrderLine,
    StockLine,
    check_quantity,
    money,
    total_of,
)
from event_sourcing.events import DomainEvent, registry
from event_sourcing.guards import HoldsKeys
from event_sourcing.repository import Aggregate, applies

SYSTEM = "system"
"""Who cancels an order when the order process does (out of stock, payment declined)."""


class OrderStatus(StrEnum):
    DRAFT = "draft"
    PLACED = "placed"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class StockStatus(StrEnum):
    NONE = "none"
    RESERVED = "reserved"
    RELEASED = "released"
    COMMITTED = "committed"
    RETURNED = "returned"


class PaymentStatus(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    """Asked of the provider, answer not yet recorded: a charge may exist."""
    CHARGED = "charged"
    DECLINED = "declined"
    REFUNDED = "refunded"


class Step(StrEnum):
    """The steps of the order process, in the order they come."""

    RESERVE = "reserve"
    REQUEST_PAYMENT = "request_payment"
    CHARGE = "charge"
    CONFIRM = "confirm"
    NOTIFY = "notify"
    RELEASE = "release"
    SETTLE = "settle"
    """Cancelled while a charge was asked for: learn its outcome (same idempotency key)."""
    REFUND = "refund"
    NOTIFY_CANCELLATION = "notify_cancellation"
    """Tell the customer of a placed (or confirmed) order that it is cancelled: the
    reason, and the refund if a charge was given back."""


OUTSIDE_STEPS = frozenset(
    {Step.CHARGE, Step.SETTLE, Step.REFUND, Step.NOTIFY, Step.NOTIFY_CANCELLATION}
)
"""The steps that call a payment provider or a mailer: run from the queue, never in a
stream shard's loop (domain/ordering/process.py)."""


def sees(caller: Caller, customer_id: str) -> bool:
    """Its customer and admins see an order; to anyone else it does not exist."""
    return caller.is_admin or caller.user_id == customer_id


def whose_orders(caller: Caller, customer_id: str | None) -> str | None:
    """The customer whose orders a listing shows: the caller's own, unless an admin
    names one (or none: everyone's)."""
    return customer_id if caller.is_admin else caller.user_id


CANCELLABLE = frozenset({OrderStatus.DRAFT, OrderStatus.PLACED, OrderStatus.CONFIRMED})


# -- Events: what an `order-<id>` stream records. Stored events name these classes and
# fields (the registry maps type names to classes): change them only with a new
# `schema_version` and an upcaster.


class CancelReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_DECLINED = "payment_declined"
    CANCELLED_BY_CUSTOMER = "cancelled_by_customer"
    CANCELLED_BY_ADMIN = "cancelled_by_admin"


# The customer's commands


@registry.event
@dataclass(frozen=True)
class OrderCreated(DomainEvent):
    order_id: str
    customer_id: str
    created_at: datetime


@registry.event
@dataclass(frozen=True)
class OrderItemAdded(DomainEvent):
    """`quantity` more of a product; name and price are the catalogue's at that moment."""

    product_id: str
    name: str
    unit_price: Decimal
    quantity: int


@registry.event
@dataclass(frozen=True)
class OrderItemRemoved(DomainEvent):
    product_id: str


@registry.event
@dataclass(frozen=True)
class OrderPlaced(DomainEvent):
    payment_method: str
    total: Decimal
    placed_at: datetime


@registry.event
@dataclass(frozen=True)
class OrderCancelled(DomainEvent):
    """v2 adds `notify`: whether the customer is to be told (every cancellation now; a
    placed or confirmed one's only, before drafts were mailed too). The previous release
    told no one of a cancellation, so its v1 events read as `notify=False`: upgrading
    mails nobody about an old cancellation."""

    schema_version = 2

    reason: CancelReason
    cancelled_by: str
    """The user who cancelled, or `system` for the order process."""
    cancelled_at: datetime
    notify: bool = False


@registry.upcaster(OrderCancelled.event_type, 1)
def _cancelled_v1(data: dict[str, object]) -> dict[str, object]:
    return {**data, "notify": False}


# The outcomes of the order process's steps


@registry.event
@dataclass(frozen=True)
class OrderStockReserved(DomainEvent):
    """Every line reserved at once, in the same write as the inventories' `StockReserved`."""

    lines: tuple[StockLine, ...]


@registry.event
@dataclass(frozen=True)
class PaymentRequested(DomainEvent):
    """Recorded just before the provider is asked to charge: from here on a charge may
    exist at the provider, so a cancellation must settle it (and refund it)."""

    amount: Decimal


@registry.event
@dataclass(frozen=True)
class PaymentCharged(DomainEvent):
    charge_id: str
    amount: Decimal


@registry.event
@dataclass(frozen=True)
class PaymentDeclined(DomainEvent):
    decline_code: str | None


@registry.event
@dataclass(frozen=True)
class OrderConfirmed(DomainEvent):
    """Recorded with the inventories' `StockCommitted`, in one write."""

    confirmed_at: datetime


@registry.event
@dataclass(frozen=True)
class ConfirmationSent(DomainEvent):
    message_id: str
    sent_at: datetime | None = None
    """None in events recorded before it was kept."""


@registry.event
@dataclass(frozen=True)
class CancellationSent(DomainEvent):
    message_id: str
    sent_at: datetime | None = None
    """None in events recorded before it was kept."""


@registry.event
@dataclass(frozen=True)
class OrderStockReleased(DomainEvent):
    """The reservation was given back, in the same write as the inventories' events."""


@registry.event
@dataclass(frozen=True)
class OrderStockReturned(DomainEvent):
    """The sold units were put back on hand, in the same write as the inventories'."""


@registry.event
@dataclass(frozen=True)
class PaymentRefunded(DomainEvent):
    refund_id: str


# -- State, decisions and evolution


@dataclass(frozen=True)
class OrderState:
    customer_id: str = ""
    status: OrderStatus = OrderStatus.DRAFT
    items: tuple[OrderLine, ...] = ()
    created_at: datetime | None = None
    payment_method: str | None = None
    placed_at: datetime | None = None
    stock: StockStatus = StockStatus.NONE
    held: tuple[StockLine, ...] = ()
    """The lines reserved (then sold) for this order."""
    payment: PaymentStatus = PaymentStatus.NONE
    amount: Decimal | None = None
    """What was asked of the provider."""
    charge_id: str | None = None
    decline_code: str | None = None
    refund_id: str | None = None
    confirmed_at: datetime | None = None
    confirmation_id: str | None = None
    confirmation_sent_at: datetime | None = None
    reason: CancelReason | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    cancellation_due: bool = False
    """The customer is to be told of the cancellation (OrderCancelled.notify)."""
    cancellation_id: str | None = None
    """The message that told them."""
    cancellation_sent_at: datetime | None = None

    @property
    def total(self) -> Decimal:
        return total_of(self.items)

    def line(self, product_id: str) -> OrderLine | None:
        return next((line for line in self.items if line.product_id == product_id), None)


class Order(HoldsKeys, Aggregate[OrderState]):
    stream_prefix = "order"
    state_type = OrderState

    @classmethod
    def create(cls, order_id: str, customer_id: str, now: datetime) -> Order:
        order = cls.blank(order_id)
        order._record(OrderCreated(order_id, customer_id, now))
        return order

    def visible_to(self, caller: Caller) -> bool:
        return self.exists and sees(caller, self.state.customer_id)

    def owned_by(self, caller: Caller) -> bool:
        return self.exists and caller.user_id == self.state.customer_id

    # the customer's commands

    def add_item(self, product_id: str, quantity: int, product: ProductInfo | None) -> None:
        """`quantity` more of an active product, named and priced as the catalogue has it
        now (a line already in the order takes the current price for all its units)."""
        quantity = check_quantity(quantity)
        self._require_draft("its items can change")
        if product is None or not product.is_active or product.product_id != product_id:
            raise _unavailable(product_id)
        existing = self.state.line(product_id)
        if existing is not None and existing.quantity + quantity > MAX_QUANTITY:
            raise RuleViolation(
                f"A line may hold at most {MAX_QUANTITY} units; this one holds "
                f"{existing.quantity}.",
                code="quantity_limit",
                details=[Detail("quantity", f"at most {MAX_QUANTITY - existing.quantity}")],
            )
        if existing is None and len(self.state.items) >= MAX_LINES:
            raise RuleViolation(
                f"An order may hold at most {MAX_LINES} different products.",
                code="too_many_lines",
                details=[Detail("product_id", f"at most {MAX_LINES} lines")],
            )
        self._record(OrderItemAdded(product_id, product.name, money(product.unit_price), quantity))

    def remove_item(self, product_id: str) -> None:
        self._require_draft("its items can change")
        if self.state.line(product_id) is None:
            raise RuleViolation(
                "This product is not in the order.",
                code="not_in_order",
                details=[Detail("product_id", "not in the order")],
            )
        self._record(OrderItemRemoved(product_id))

    def place(
        self, payment_method: str, products: Mapping[str, ProductInfo | None], now: datetime
    ) -> None:
        """Place the draft, to be paid with `payment_method` (which the service checked).

        `products` is the catalogue's current view of every line: a product withdrawn
        since it was added is refused, so nothing inactive is sold."""
        self._require_draft("it can be placed")
        if not self.state.items:
            raise RuleViolation("An empty order cannot be placed.", code="empty_order")
        gone = [
            line.product_id
            for line in self.state.items
            if (info := products.get(line.product_id)) is None or not info.is_active
        ]
        if gone:
            raise RuleViolation(
                "Some products of this order are no longer available: remove them first.",
                code="product_unavailable",
                details=[Detail("product_id", product_id) for product_id in gone],
            )
        self._record(OrderPlaced(payment_method, self.state.total, now))

    def cancel(
        self,
        reason: CancelReason,
        by: str,
        now: datetime,
        inventories: Mapping[str, Inventory],
    ) -> None:
        """Cancel, and give back in the same write what the order holds: a reservation is
        released, the units of a confirmed order are returned. A charge is refunded later,
        by the order process."""
        if self.state.status not in CANCELLABLE:
            raise RuleViolation(
                f"A {self.state.status} order cannot be cancelled.", code="cannot_cancel"
            )
        # the contract's "emailed once when it is cancelled": a draft too (an admin may
        # cancel it, and the customer should hear of it either way)
        self._record(OrderCancelled(reason, by, now, notify=True))
        if self.state.stock is StockStatus.RESERVED:
            self.release_stock(inventories)
        elif self.state.stock is StockStatus.COMMITTED:
            self.return_stock(inventories)

    # the order process's steps

    def next_step(self) -> Step | None:
        """The one step the order's state calls for next; None when nothing is left."""
        state = self.state
        if state.status is OrderStatus.PLACED:
            if state.stock is StockStatus.NONE:
                return Step.RESERVE
            if state.stock is StockStatus.RESERVED:
                return {
                    PaymentStatus.NONE: Step.REQUEST_PAYMENT,
                    PaymentStatus.REQUESTED: Step.CHARGE,
                    PaymentStatus.CHARGED: Step.CONFIRM,
                }.get(state.payment)
        if state.status is OrderStatus.CONFIRMED and state.confirmation_id is None:
            return Step.NOTIFY
        if state.status is OrderStatus.CANCELLED:
            if state.stock is StockStatus.RESERVED:
                return Step.RELEASE
            if state.payment is PaymentStatus.REQUESTED:
                return Step.SETTLE
            if state.payment is PaymentStatus.CHARGED:
                return Step.REFUND
            if state.cancellation_due and state.cancellation_id is None:
                return Step.NOTIFY_CANCELLATION
        return None

    def held_keys(self) -> frozenset[tuple[str, str]]:
        """Every product of an order that is not cancelled: none can be deleted meanwhile."""
        if not self.exists or self.state.status is OrderStatus.CANCELLED:
            return frozenset()
        return frozenset((holds.PRODUCT, line.product_id) for line in self.state.items)

    def stock_ids(self) -> tuple[str, ...]:
        """The stock buckets the next stock change reads: each line's home bucket before a
        reservation (`short_of` then names the products needing the others too), the
        buckets holding the order's lines after."""
        if self.state.stock is StockStatus.NONE:
            return tuple(home_bucket(line.product_id, self.id) for line in self.state.items)
        if self.state.stock in (StockStatus.RESERVED, StockStatus.COMMITTED):
            return tuple(dict.fromkeys(line.stock_id for line in self.state.held))
        return ()

    def short_of(self, inventories: Mapping[str, Inventory]) -> tuple[str, ...]:
        """The products whose buckets in `inventories` cannot hold their line: to reserve,
        read every bucket of those (a home bucket is short only near a sell-out)."""
        return tuple(
            line.product_id
            for line in self.state.items
            if _available(line.product_id, inventories) < line.quantity
        )

    def reserve_stock(self, inventories: Mapping[str, Inventory], now: datetime) -> bool:
        """Reserve every line at once, or, if any line lacks stock, none: the order is
        then cancelled (`out_of_stock`). A line is held by its home bucket, or, when that
        one is short, by as many of the product's other buckets in `inventories` as it
        takes. Answers whether the stock was reserved."""
        self._require(Step.RESERVE)
        if self.short_of(inventories):
            self.cancel(CancelReason.OUT_OF_STOCK, SYSTEM, now, inventories)
            return False
        held: list[StockLine] = []
        for line in self.state.items:
            home = home_bucket(line.product_id, self.id)
            # Short at home: the buckets that have stock, from a place of the order's own
            # among them, so orders that miss their home do not all meet on the first one.
            others = [
                b
                for b in bucket_ids(line.product_id)
                if b != home and b in inventories and inventories[b].state.available > 0
            ]
            start = spread_of(self.id, len(others)) if others else 0
            order = [home, *others[start:], *others[:start]]
            needed = line.quantity
            for stock_id in order:
                bucket = inventories.get(stock_id)
                take = min(needed, bucket.state.available) if bucket is not None else 0
                if bucket is not None and take > 0:
                    bucket.reserve(self.id, take)
                    held.append(StockLine(line.product_id, take, stock_id))
                    needed -= take
                if needed == 0:
                    break
        self._record(OrderStockReserved(tuple(held)))
        return True

    def request_payment(self) -> None:
        self._require(Step.REQUEST_PAYMENT)
        self._record(PaymentRequested(self.state.total))

    def record_charge(
        self, charge: Charge, now: datetime, inventories: Mapping[str, Inventory]
    ) -> None:
        """The provider's answer to the requested charge. A decline of a placed order
        cancels it (`payment_declined`) and releases its stock, in the same write."""
        if self.state.payment is not PaymentStatus.REQUESTED:
            raise ValueError(f"order {self.id!r} has no charge waiting for an answer")
        if charge.succeeded:
            self._record(PaymentCharged(charge.charge_id, self.amount))
            return
        self._record(PaymentDeclined(charge.decline_code))
        if self.state.status is OrderStatus.PLACED:
            self.cancel(CancelReason.PAYMENT_DECLINED, SYSTEM, now, inventories)

    def confirm(self, inventories: Mapping[str, Inventory], now: datetime) -> None:
        """Confirm the paid order and turn its reservations into sales, in one write."""
        self._require(Step.CONFIRM)
        for stock_id in self.stock_ids():
            inventories[stock_id].commit(self.id)
        self._record(OrderConfirmed(now))

    def record_confirmation(self, message_id: str, now: datetime) -> None:
        self._require(Step.NOTIFY)
        self._record(ConfirmationSent(message_id, now))

    def record_cancellation_notice(self, message_id: str, now: datetime) -> None:
        self._require(Step.NOTIFY_CANCELLATION)
        self._record(CancellationSent(message_id, now))

    def release_stock(self, inventories: Mapping[str, Inventory]) -> None:
        if self.state.stock is not StockStatus.RESERVED:
            raise ValueError(f"order {self.id!r} holds no reservation")
        for stock_id in self.stock_ids():
            inventories[stock_id].release(self.id)
        self._record(OrderStockReleased())

    def return_stock(self, inventories: Mapping[str, Inventory]) -> None:
        if self.state.stock is not StockStatus.COMMITTED:
            raise ValueError(f"order {self.id!r} sold nothing to give back")
        for line in self.state.held:
            inventories[line.stock_id].give_back(self.id, line.quantity)
        self._record(OrderStockReturned())

    def record_refund(self, refund: Refund) -> None:
        self._require(Step.REFUND)
        self._record(PaymentRefunded(refund.refund_id))

    @property
    def amount(self) -> Decimal:
        """What the order asked the provider for (once the payment is requested)."""
        if self.state.amount is None:
            raise ValueError(f"order {self.id!r} asked for no payment")
        return self.state.amount

    def _require(self, step: Step) -> None:
        if self.next_step() is not step:
            raise ValueError(f"order {self.id!r} is not ready to {step} (next: {self.next_step()})")

    def _require_draft(self, what: str) -> None:
        """Refuse unless a draft, saying what the order is now (placed, cancelled, ...)."""
        if self.state.status is not OrderStatus.DRAFT:
            raise RuleViolation(
                f"This order is {self.state.status}: {what} only while it is a draft.",
                code="order_not_draft",
            )

    @applies(OrderCreated)
    def _created(self, state: OrderState, event: OrderCreated) -> OrderState:
        return replace(state, customer_id=event.customer_id, created_at=event.created_at)

    @applies(OrderItemAdded)
    def _item_added(self, state: OrderState, event: OrderItemAdded) -> OrderState:
        existing = state.line(event.product_id)
        quantity = event.quantity + (existing.quantity if existing else 0)
        line = OrderLine(event.product_id, event.name, event.unit_price, quantity)
        if existing is None:
            return replace(state, items=(*state.items, line))
        items = tuple(line if i.product_id == event.product_id else i for i in state.items)
        return replace(state, items=items)

    @applies(OrderItemRemoved)
    def _item_removed(self, state: OrderState, event: OrderItemRemoved) -> OrderState:
        items = tuple(i for i in state.items if i.product_id != event.product_id)
        return replace(state, items=items)

    @applies(OrderPlaced)
    def _placed(self, state: OrderState, event: OrderPlaced) -> OrderState:
        return replace(
            state,
            status=OrderStatus.PLACED,
            payment_method=event.payment_method,
            placed_at=event.placed_at,
        )

    @applies(OrderCancelled)
    def _cancelled(self, state: OrderState, event: OrderCancelled) -> OrderState:
        return replace(
            state,
            status=OrderStatus.CANCELLED,
            reason=event.reason,
            cancelled_by=event.cancelled_by,
            cancelled_at=event.cancelled_at,
            cancellation_due=event.notify,
        )

    @applies(CancellationSent)
    def _cancellation_sent(self, state: OrderState, event: CancellationSent) -> OrderState:
        return replace(state, cancellation_id=event.message_id, cancellation_sent_at=event.sent_at)

    @applies(OrderStockReserved)
    def _stock_reserved(self, state: OrderState, event: OrderStockReserved) -> OrderState:
        return replace(state, stock=StockStatus.RESERVED, held=event.lines)

    @applies(PaymentRequested)
    def _payment_requested(self, state: OrderState, event: PaymentRequested) -> OrderState:
        return replace(state, payment=PaymentStatus.REQUESTED, amount=event.amount)

    @applies(PaymentCharged)
    def _charged(self, state: OrderState, event: PaymentCharged) -> OrderState:
        return replace(state, payment=PaymentStatus.CHARGED, charge_id=event.charge_id)

    @applies(PaymentDeclined)
    def _declined(self, state: OrderState, event: PaymentDeclined) -> OrderState:
        return replace(state, payment=PaymentStatus.DECLINED, decline_code=event.decline_code)

    @applies(OrderConfirmed)
    def _confirmed(self, state: OrderState, event: OrderConfirmed) -> OrderState:
        return replace(
            state,
            status=OrderStatus.CONFIRMED,
            stock=StockStatus.COMMITTED,
            confirmed_at=event.confirmed_at,
        )

    @applies(ConfirmationSent)
    def _confirmation_sent(self, state: OrderState, event: ConfirmationSent) -> OrderState:
        return replace(state, confirmation_id=event.message_id, confirmation_sent_at=event.sent_at)

    @applies(OrderStockReleased)
    def _stock_released(self, state: OrderState, event: OrderStockReleased) -> OrderState:
        return replace(state, stock=StockStatus.RELEASED)

    @applies(OrderStockReturned)
    def _stock_returned(self, state: OrderState, event: OrderStockReturned) -> OrderState:
        return replace(state, stock=StockStatus.RETURNED)

    @applies(PaymentRefunded)
    def _refunded(self, state: OrderState, event: PaymentRefunded) -> OrderState:
        return replace(state, payment=PaymentStatus.REFUNDED, refund_id=event.refund_id)


def unavailable(product_id: str) -> RuleViolation:
    """The refusal of a product that is not (or no longer) in the catalogue."""
    return _unavailable(product_id)


def _unavailable(product_id: str) -> RuleViolation:
    return RuleViolation(
        "This product is not available.",
        code="product_unavailable",
        details=[Detail("product_id", "names no active product")],
    )


def _available(product_id: str, inventories: Mapping[str, Inventory]) -> int:
    return sum(inventories[b].state.available for b in bucket_ids(product_id) if b in inventories)
