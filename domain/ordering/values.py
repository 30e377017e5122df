"""The values an order is made of: money, quantities, lines; and the rules on their size.

Money is `Decimal` with two places, rounded half up; a float never takes part."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import Detail, InvalidValue

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_QUANTITY = 1000
"""The most of one product a line may hold."""
MAX_LINES = 48
"""The most distinct products an order may hold. Its widest write, a declined charge,
records three order events and, per line, an inventory event and a hold let go of:
3 + 2 x 48 = 99, within one append (`MAX_APPEND_ITEMS`)."""
MAX_ON_HAND = 1_000_000
MAX_ID_LENGTH = 200
MAX_PAYMENT_METHOD = 200


def money(amount: Decimal) -> Decimal:
    """`amount` with exactly two places, rounded half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class OrderLine:
    """One product in an order, named and priced by the catalogue when it was added."""

    product_id: str
    name: str
    unit_price: Decimal
    quantity: int

    @property
    def subtotal(self) -> Decimal:
        return money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product held for an order, in one of the product's stock buckets."""

    product_id: str
    quantity: int
    bucket: str | None = None
    """The inventory (bucket) holding it; None in what was recorded before buckets: the
    product's first one, whose id is the product's."""

    @property
    def stock_id(self) -> str:
        return self.bucket or self.product_id


def total_of(lines: Iterable[OrderLine]) -> Decimal:
    """The sum of `unit_price x quantity` over `lines`, with two places."""
    return money(sum((line.subtotal for line in lines), ZERO))


def check_quantity(quantity: int, *, field: str = "quantity") -> int:
    """A quantity as given, if it is a whole number from 1 to `MAX_QUANTITY`."""
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 1 <= quantity <= MAX_QUANTITY
    ):
        raise InvalidValue(
            f"A quantity must be a whole number from 1 to {MAX_QUANTITY}.",
            code="invalid_quantity",
            details=[Detail(field, f"an integer from 1 to {MAX_QUANTITY}")],
        )
    return quantity


def check_on_hand(on_hand: int) -> int:
    """A stock count as given, if it is a whole number from 0 to `MAX_ON_HAND`."""
    if isinstance(on_hand, bool) or not isinstance(on_hand, int) or not 0 <= on_hand <= MAX_ON_HAND:
        raise InvalidValue(
            f"The stock on hand must be a whole number from 0 to {MAX_ON_HAND}.",
            code="invalid_on_hand",
            details=[Detail("on_hand", f"an integer from 0 to {MAX_ON_HAND}")],
        )
    return on_hand


def check_id(value: str, *, field: str) -> str:
    """An opaque id as given: a non-empty string of at most `MAX_ID_LENGTH` characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_LENGTH or value != value.strip():
        raise InvalidValue(
            f"The {field} must be an id.",
            code="invalid_id",
            details=[Detail(field, f"a non-blank id of at most {MAX_ID_LENGTH} characters")],
        )
    return value


def check_payment_method(value: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_PAYMENT_METHOD:
        raise InvalidValue(
            "A payment method is required.",
            code="invalid_payment_method",
            details=[Detail("payment_method", "a payment method id such as pm_card_visa")],
        )
    return value.strip()
