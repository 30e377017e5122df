"""The Category aggregate: the seed's `Category` (`allows_products`, `premium_category`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.catalog.text import check_text
from event_sourcing.events import DomainEvent, registry
from event_sourcing.repository import Aggregate, applies

MAX_CATEGORY_NAME = 100


# -- Events: what a `category-<id>` stream records. Stored events name these classes and
# fields (the registry maps type names to classes): change them only with a new
# `schema_version` and an upcaster.


@registry.event
@dataclass(frozen=True)
class CategoryCreated(DomainEvent):
    category_id: str
    name: str
    allows_products: bool
    premium: bool
    created_at: datetime


# -- State, decisions and evolution


@dataclass(frozen=True)
class CategoryState:
    name: str = ""
    allows_products: bool = True
    premium: bool = False
    created_at: datetime | None = None


class Category(Aggregate[CategoryState]):
    stream_prefix = "category"
    state_type = CategoryState

    @classmethod
    def create(
        cls, category_id: str, name: str, allows_products: bool, premium: bool, now: datetime
    ) -> Category:
        name = check_text(
            name, field="name", code="invalid_name", min_length=1, max_length=MAX_CATEGORY_NAME
        )
        category = cls.blank(category_id)
        category._record(CategoryCreated(category_id, name, allows_products, premium, now))
        return category

    @applies(CategoryCreated)
    def _created(self, state: CategoryState, event: CategoryCreated) -> CategoryState:
        return replace(
            state,
            name=event.name,
            allows_products=event.allows_products,
            premium=event.premium,
            created_at=event.created_at,
        )
