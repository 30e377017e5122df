"""The Product aggregate: the seed's `Product` and `ProductAggregate`, decided by events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from domain.catalog import pricing
from domain.catalog.category import Category
from domain.catalog.text import check_text
from domain.errors import Detail, NotFound, RuleViolation
from event_sourcing.aggregate import Aggregate, applies
from event_sourcing.events import DomainEvent, registry

MAX_PRODUCT_NAME = 200
MAX_DESCRIPTION = 5000
MAX_REASON = 500


# -- Events: what a `product-<id>` stream records. Stored events name these classes and
# fields (the registry maps type names to classes): change them only with a new
# `schema_version` and an upcaster.


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


# -- State, decisions and evolution


@dataclass(frozen=True)
class ProductState:
    name: str = ""
    description: str = ""
    base_price: Decimal = Decimal("0.00")
    """The price the admin last gave."""
    price: Decimal = Decimal("0.00")
    """What customers pay: `base_price` after the pricing rules."""
    category_id: str = ""
    premium: bool | None = None
    """The category's premium flag; None for a product created before products kept it."""
    is_active: bool = False
    requires_approval: bool = False
    created_at: datetime | None = None
    price_updated_at: datetime | None = None
    deleted: bool = False
    """No event sets it yet; every command treats a deleted product as missing."""


class Product(Aggregate[ProductState]):
    stream_prefix = "product"
    state_type = ProductState

    @classmethod
    def create(
        cls,
        product_id: str,
        name: str,
        description: str,
        base_price: Decimal,
        category: Category,
        created_by: str,
        now: datetime,
    ) -> Product:
        """A new product, inactive, priced by its category's rules.

        The values are checked first (400), then the category (422)."""
        name = check_text(
            name, field="name", code="invalid_name", min_length=1, max_length=MAX_PRODUCT_NAME
        )
        description = check_text(
            description,
            field="description",
            code="invalid_description",
            max_length=MAX_DESCRIPTION,
        )
        price = pricing.effective_price(base_price, category.state.premium)
        if not category.exists:
            raise RuleViolation(
                "There is no such category.",
                code="unknown_category",
                details=[Detail("category_id", "names no category")],
            )
        if not category.state.allows_products:
            raise RuleViolation(
                "This category does not allow products.",
                code="category_closed",
                details=[Detail("category_id", "the category allows no products")],
            )
        product = cls.blank(product_id)
        product._record(
            ProductCreated(
                product_id=product_id,
                name=name,
                description=description,
                base_price=pricing.money(base_price),
                price=price,
                category_id=category.id,
                requires_approval=pricing.requires_approval(price),
                created_by=created_by,
                created_at=now,
                premium=category.state.premium,
            )
        )
        return product

    @property
    def is_live(self) -> bool:
        """Created and not deleted: the product commands can act on."""
        return self.exists and not self.state.deleted

    def change_price(self, base_price: Decimal, premium: bool, by: str, now: datetime) -> None:
        """Reprice from a new base price, under the category's `premium` flag.

        The same effective price records nothing; a cut below half is refused; a price
        over 1000 before or after the change needs approval again."""
        self._require_live()
        new_price = pricing.effective_price(base_price, premium)
        old_price = self.state.price
        if new_price == old_price:
            return
        if pricing.is_cut_too_deep(old_price, new_price):
            raise RuleViolation(
                f"The price cannot drop by more than half: {new_price} is below half of "
                f"{old_price}.",
                code="price_cut_too_deep",
                details=[Detail("price", f"at least {pricing.money(old_price * pricing.HALF)}")],
            )
        needs_approval = (
            self.state.requires_approval
            or pricing.requires_approval(old_price)
            or pricing.requires_approval(new_price)
        )
        self._record(
            ProductPriceChanged(
                old_price=old_price,
                new_price=new_price,
                base_price=pricing.money(base_price),
                requires_approval=needs_approval,
                changed_by=by,
                changed_at=now,
            )
        )

    def approve(self, by: str, now: datetime) -> None:
        self._require_live()
        if not self.state.requires_approval:
            raise RuleViolation(
                "This product has nothing waiting for approval.", code="nothing_to_approve"
            )
        self._record(ProductApproved(by, now))

    def activate(self, by: str, now: datetime) -> None:
        self._require_live()
        if self.state.is_active:
            raise RuleViolation("This product is already active.", code="already_active")
        if self.state.requires_approval:
            raise RuleViolation(
                "This product needs an admin's approval before it can be activated.",
                code="approval_pending",
            )
        self._record(ProductActivated(by, now))

    def deactivate(self, reason: str, by: str, now: datetime) -> None:
        self._require_live()
        reason = check_text(
            reason, field="reason", code="invalid_reason", min_length=1, max_length=MAX_REASON
        )
        if not self.state.is_active:
            raise RuleViolation("This product is already inactive.", code="already_inactive")
        self._record(ProductDeactivated(reason, by, now))

    def delete(self, by: str, now: datetime) -> None:
        """Gone for good. Refused while any order (not cancelled) holds the product: the
        store refuses to retire a held product (`held_by_orders`)."""
        self._require_live()
        self._record(ProductDeleted(by, now))

    def discounted_price(self, percentage: Decimal) -> Decimal:
        """The seed's `apply_discount`: the current price less 0 to 50 percent."""
        self._require_live()
        return pricing.discounted(self.state.price, percentage)

    def _require_live(self) -> None:
        if not self.is_live:
            raise NotFound(f"No product has the id {self.id!r}.", code="product_not_found")

    @applies(ProductCreated)
    def _created(self, state: ProductState, event: ProductCreated) -> ProductState:
        return replace(
            state,
            name=event.name,
            description=event.description,
            base_price=event.base_price,
            price=event.price,
            category_id=event.category_id,
            premium=event.premium,
            is_active=False,
            requires_approval=event.requires_approval,
            created_at=event.created_at,
            price_updated_at=event.created_at,
        )

    @applies(ProductPriceChanged)
    def _price_changed(self, state: ProductState, event: ProductPriceChanged) -> ProductState:
        return replace(
            state,
            base_price=event.base_price,
            price=event.new_price,
            requires_approval=event.requires_approval,
            price_updated_at=event.changed_at,
        )

    @applies(ProductApproved)
    def _approved(self, state: ProductState, event: ProductApproved) -> ProductState:
        return replace(state, requires_approval=False)

    @applies(ProductActivated)
    def _activated(self, state: ProductState, event: ProductActivated) -> ProductState:
        return replace(state, is_active=True)

    @applies(ProductDeleted)
    def _deleted(self, state: ProductState, event: ProductDeleted) -> ProductState:
        return replace(state, is_active=False, deleted=True)

    @applies(ProductDeactivated)
    def _deactivated(self, state: ProductState, event: ProductDeactivated) -> ProductState:
        return replace(state, is_active=False)


def held_by_orders() -> RuleViolation:
    return RuleViolation(
        "Orders hold this product: deactivate it instead, or wait until they are cancelled.",
        code="product_in_orders",
    )
