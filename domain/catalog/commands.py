"""The catalogue commands, as the edge hands them to the core."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CreateCategory:
    name: str
    allows_products: bool = True
    premium: bool = False


@dataclass(frozen=True)
class CreateProduct:
    name: str
    description: str
    price: Decimal
    """The base price; customers pay it after the pricing rules."""
    category_id: str


@dataclass(frozen=True)
class ChangePrice:
    product_id: str
    price: Decimal
    """The new base price."""


@dataclass(frozen=True)
class ApproveProduct:
    product_id: str


@dataclass(frozen=True)
class ActivateProduct:
    product_id: str


@dataclass(frozen=True)
class DeactivateProduct:
    product_id: str
    reason: str


@dataclass(frozen=True)
class DeleteProduct:
    product_id: str


@dataclass(frozen=True)
class PostReview:
    product_id: str
    rating: int
    comment: str = ""
