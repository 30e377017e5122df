"""The Product aggregate: the seed's `Product` and `ProductAggregate`, decided by events,
with the catalogue's money rules (the seed's `calculate_pricing` and `apply_discount`).

Money is `Decimal` with two places, rounded half up; a float never takes part."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from domain.catalog.category import Category
from domain.catalog.text import check_text
from domain.errors import Detail, InvalidValue, NotFound, RuleViolation
from event_sourcing.events import DomainEvent, registry
from event_sourcing.repository import Aggregate, applies

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000000")
PREMIUM_MARKUP = Decimal("1.2")
"""A premium category adds 20 %."""
CHARM_ABOVE = Decimal("100")
"""A price over this becomes the largest `n.99` not above it."""
APPROVAL_ABOVE = Decimal("1000")
"""A price over this needs an admin's approval."""
MAX_DISCOUNT = Decimal("50")
HALF = Decimal("0.5")


def money(amount: Decimal) -> Decimal:
    """`amount` with exactly two places, rounded half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def check_price(price: Decimal, *, field: str = "price") -> Decimal:
    """A price as given, if it is one: positive, in cents, at most `MAX_PRICE`.

    Returns it with two places (`19.9` -> `19.90`); raises `InvalidValue` otherwise."""
    if not price.is_finite():
        raise InvalidValue(
            "The price must be a decimal number.",
            code="invalid_price",
            details=[Detail(field, "must be a decimal number like 19.99")],
        )
    if price <= 0:
        raise InvalidValue(
            "The price must be positive.",
            code="price_not_positive",
            details=[Detail(field, "must be greater than 0")],
        )
    if _places(price) > 2:
        raise InvalidValue(
            "The price may have at most two decimal places.",
            code="price_precision",
            details=[Detail(field, "at most two decimal places")],
        )
    if price > MAX_PRICE:
        raise InvalidValue(
            f"The price may be at most {MAX_PRICE}.",
            code="price_too_high",
            details=[Detail(field, f"at most {MAX_PRICE}")],
        )
    return money(price)


def charm(price: Decimal) -> Decimal:
    """Over `CHARM_ABOVE`, the largest `n.99` not above `price`; otherwise `price`."""
    if price <= CHARM_ABOVE:
        return money(price)
    candidate = price.to_integral_value(rounding=ROUND_FLOOR) + Decimal("0.99")
    if candidate > price:
        candidate -= 1
    return money(candidate)


def effective_price(base: Decimal, premium: bool) -> Decimal:
    """The price a customer pays for a base price: premium markup first, then the .99 rule."""
    price = check_price(base)
    if premium:
        price = money(price * PREMIUM_MARKUP)
    return charm(price)


def requires_approval(price: Decimal) -> bool:
    return price > APPROVAL_ABOVE


def is_cut_too_deep(current: Decimal, new: Decimal) -> bool:
    """A new price below half the current one is refused."""
    return new < current * HALF


def discounted(price: Decimal, percentage: Decimal) -> Decimal:
    """The seed's `apply_discount`: 0 <= percentage <= 50, the result in cents."""
    if not percentage.is_finite() or not 0 <= percentage <= MAX_DISCOUNT:
        raise InvalidValue(
            f"The discount must be between 0 and {MAX_DISCOUNT} percent.",
            code="discount_out_of_range",
            details=[Detail("percentage", f"between 0 and {MAX_DISCOUNT}")],
        )
    return money(price * (1 - percentage / 100))


def _places(amount: Decimal) -> int:
    """How many decimal places a finite amount needs (`19.90` needs one)."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


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
        price = effective_price(base_price, category.state.premium)
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
                base_price=money(base_price),
                price=price,
                category_id=category.id,
                requires_approval=requires_approval(price),
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
        new_price = effective_price(base_price, premium)
        old_price = self.state.price
        if new_price == old_price:
            return
        if is_cut_too_deep(old_price, new_price):
            raise RuleViolation(
                f"The price cannot drop by more than half: {new_price} is below half of "
                f"{old_price}.",
                code="price_cut_too_deep",
                details=[Detail("price", f"at least {money(old_price * HALF)}")],
            )
        needs_approval = (
            self.state.requires_approval
            or requires_approval(old_price)
            or requires_approval(new_price)
        )
        self._record(
            ProductPriceChanged(
                old_price=old_price,
                new_price=new_price,
                base_price=money(base_price),
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
        return discounted(self.state.price, percentage)

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
