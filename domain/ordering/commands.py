"""The ordering commands, as the edge hands them to the core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestedItem:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class CreateOrder:
    items: tuple[RequestedItem, ...] = ()


@dataclass(frozen=True)
class AddItem:
    order_id: str
    product_id: str
    quantity: int


@dataclass(frozen=True)
class RemoveItem:
    order_id: str
    product_id: str


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    payment_method: str


@dataclass(frozen=True)
class CancelOrder:
    order_id: str


@dataclass(frozen=True)
class SetStock:
    product_id: str
    on_hand: int
