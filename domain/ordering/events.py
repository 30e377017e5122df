"""What happens to orders and to the stock they draw on.

Two kinds of stream: `order-<id>` (an order and the steps of its process) and
`inventory-<product_id>` (one product's stock). Projections and the order process are
written against these names and fields: change them only with a new `schema_version`
and an upcaster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.ordering.values import StockLine
from event_sourcing.events import DomainEvent, registry


class CancelReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_DECLINED = "payment_declined"
    CANCELLED_BY_CUSTOMER = "cancelled_by_customer"
    CANCELLED_BY_ADMIN = "cancelled_by_admin"


# inventory-<product_id>


@registry.event
@dataclass(frozen=True)
class StockSet(DomainEvent):
    """An admin counted the stock: `on_hand` units, reserved ones included."""

    on_hand: int
    set_by: str


@registry.event
@dataclass(frozen=True)
class StockReserved(DomainEvent):
    order_id: str
    quantity: int


@registry.event
@dataclass(frozen=True)
class StockReleased(DomainEvent):
    """A reservation given back (the order was cancelled before it was confirmed)."""

    order_id: str
    quantity: int


@registry.event
@dataclass(frozen=True)
class StockCommitted(DomainEvent):
    """A reservation turned into a sale: on hand and reserved both drop by `quantity`."""

    order_id: str
    quantity: int


@registry.event
@dataclass(frozen=True)
class StockReturned(DomainEvent):
    """A confirmed order was cancelled: its units are back on hand."""

    order_id: str
    quantity: int


# order-<id>: the customer's commands


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
    reason: CancelReason
    cancelled_by: str
    """The user who cancelled, or `system` for the order process."""
    cancelled_at: datetime


# order-<id>: the outcomes of the order process's steps


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
