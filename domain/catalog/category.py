"""The Category aggregate: the seed's `Category` (`allows_products`, `premium_category`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.catalog.events import CategoryCreated
from domain.catalog.text import check_text
from event_sourcing.aggregate import Aggregate, applies

MAX_CATEGORY_NAME = 100


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
