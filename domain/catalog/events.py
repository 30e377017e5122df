"""What happens in the catalogue: categories, products and their reviews.

Projections are written against these names and fields: change them only with a new
`schema_version` and an upcaster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from event_sourcing.events import DomainEvent, registry


@registry.event
@dataclass(frozen=True)
class CategoryCreated(DomainEvent):
    category_id: str
    name: str
    allows_products: bool
    premium: bool
    created_at: datetime


@registry.event
@dataclass(frozen=True)
class ProductCreated(DomainEvent):
    product_id: str
    name: str
    description: str
    base_price: Decimal
    """The price the admin gave."""
    price: Decimal
    """The price customers pay: `base_price` after the pricing rules."""
    category_id: str
    requires_approval: bool
    created_by: str
    created_at: datetime
    premium: bool | None = None
    """The category's premium flag (a category's flags never change), kept so that a price
    change reads the product's stream alone; None in events recorded before it was."""


@registry.event
@dataclass(frozen=True)
class ProductPriceChanged(DomainEvent):
    old_price: Decimal
    new_price: Decimal
    base_price: Decimal
    requires_approval: bool
    """The flag after the change (it is only ever set by a price change)."""
    changed_by: str
    changed_at: datetime


@registry.event
@dataclass(frozen=True)
class ProductApproved(DomainEvent):
    approved_by: str
    approved_at: datetime


@registry.event
@dataclass(frozen=True)
class ProductActivated(DomainEvent):
    activated_by: str
    activated_at: datetime


@registry.event
@dataclass(frozen=True)
class ProductDeactivated(DomainEvent):
    reason: str
    deactivated_by: str
    deactivated_at: datetime


@registry.event
@dataclass(frozen=True)
class ProductDeleted(DomainEvent):
    deleted_by: str
    deleted_at: datetime


@registry.event
@dataclass(frozen=True)
class ReviewPosted(DomainEvent):
    product_id: str
    customer_id: str
    rating: int
    comment: str
    previous_rating: int | None
    """The rating this one replaces, if the customer had reviewed the product before:
    a projection subtracts it to keep its sum of ratings exact."""
    posted_at: datetime
