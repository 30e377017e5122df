"""Money rules of the catalogue (the seed's `calculate_pricing` and `apply_discount`).

Money is `Decimal` with two places, rounded half up; a float never takes part."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from domain.errors import Detail, InvalidValue

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
