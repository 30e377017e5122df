"""The catalogue's money rules, as tables of cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog.product import discounted, effective_price, requires_approval
from domain.errors import InvalidValue


@pytest.mark.parametrize(
    ("base", "premium", "expected"),
    [
        # the three examples of the rule, and its edges around 100
        ("120.00", False, "119.99"),
        ("150.50", False, "149.99"),
        ("150.99", False, "150.99"),
        ("100.00", False, "100.00"),
        ("100.50", False, "99.99"),
        ("100.01", False, "99.99"),
        ("99.99", False, "99.99"),
        ("101", False, "100.99"),
        ("19.9", False, "19.90"),
        ("0.01", False, "0.01"),
        # premium adds 20 % first, then the .99 rule
        ("50.00", True, "60.00"),
        ("83.33", True, "100.00"),  # 99.996 rounds half up to 100.00: not over 100
        ("83.34", True, "99.99"),  # 100.008 -> 100.01 -> 99.99
        ("100.00", True, "119.99"),
        ("0.01", True, "0.01"),  # 0.012
        ("0.05", True, "0.06"),
        # around 1000
        ("999.99", False, "999.99"),
        ("1000.00", False, "999.99"),
        ("1000.50", False, "999.99"),
        ("1001.00", False, "1000.99"),
        ("1001.98", False, "1000.99"),
        ("833.33", True, "999.99"),
        ("834.00", True, "999.99"),  # 1000.80
        ("835.00", True, "1001.99"),  # 1002.00
        ("1000000", False, "999999.99"),
        ("1000000", True, "1199999.99"),
    ],
)
def test_effective_price(base: str, premium: bool, expected: str) -> None:
    price = effective_price(Decimal(base), premium)
    assert str(price) == expected


@pytest.mark.parametrize(
    ("base", "code"),
    [
        ("0", "price_not_positive"),
        ("0.00", "price_not_positive"),
        ("-1.00", "price_not_positive"),
        ("-0.01", "price_not_positive"),
        ("19.999", "price_precision"),
        ("0.001", "price_precision"),
        ("1000000.01", "price_too_high"),
        ("1E+30", "price_too_high"),
        ("NaN", "invalid_price"),
        ("Infinity", "invalid_price"),
    ],
)
def test_invalid_prices_are_refused(base: str, code: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        effective_price(Decimal(base), premium=False)
    assert refused.value.code == code
    assert refused.value.details[0].field == "price"


def test_trailing_zeros_are_not_extra_precision() -> None:
    assert effective_price(Decimal("19.900"), premium=False) == Decimal("19.90")


@pytest.mark.parametrize(
    ("price", "expected"),
    [("999.99", False), ("1000.00", False), ("1000.01", True), ("1000.99", True)],
)
def test_a_price_over_1000_requires_approval(price: str, expected: bool) -> None:
    assert requires_approval(Decimal(price)) is expected


@pytest.mark.parametrize(
    ("price", "percentage", "expected"),
    [
        ("100.00", "0", "100.00"),
        ("100.00", "50", "50.00"),
        ("100.00", "10", "90.00"),
        ("19.99", "50", "10.00"),  # 9.995 rounds half up
        ("19.99", "12.5", "17.49"),  # 17.49125
        ("0.01", "50", "0.01"),  # 0.005 rounds half up
    ],
)
def test_a_discount_of_0_to_50_percent(price: str, percentage: str, expected: str) -> None:
    assert str(discounted(Decimal(price), Decimal(percentage))) == expected


@pytest.mark.parametrize("percentage", ["51", "-1", "50.01", "-0.01", "NaN", "Infinity"])
def test_a_discount_outside_0_to_50_percent_is_refused(percentage: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        discounted(Decimal("100.00"), Decimal(percentage))
    assert refused.value.code == "discount_out_of_range"
    assert refused.value.details[0].field == "percentage"
