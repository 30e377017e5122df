"""GET /products/{id}/stats as the contract states it (the seed's GetProductStatsQuery),
through the real handlers on moto, with orders driven through the order process."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.functions.test_ordering_http import DECLINED, Shop

ZERO = {
    "orders_count": 0,
    "units_sold": 0,
    "revenue": "0.00",
    "review_count": 0,
    "average_rating": None,
    "ratings": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
}


@pytest.fixture
def shop(stack: Stack) -> Shop:
    return Shop(stack)


def stats(shop: Shop, product_id: str, *, process: bool = True) -> dict[str, Any]:
    """The stats once the order process has run (or, without `process`, only projected)."""
    if process:
        shop.stack.run_process()
    else:
        shop.stack.project()
    answer = shop.call("GET", f"/products/{product_id}/stats", token=shop.admin)
    assert answer.status == 200, answer.text
    return dict(answer.json)


def sales(shop: Shop, product_id: str) -> tuple[int, int, str]:
    found = stats(shop, product_id)
    return found["orders_count"], found["units_sold"], found["revenue"]


def confirmed(shop: Shop, token: str, *lines: tuple[str, int]) -> str:
    order_id = str(shop.order(token, *lines)["id"])
    shop.place(token, order_id)
    shop.stack.run_process()
    assert shop.view(order_id)["status"] == "confirmed"
    return order_id


def review(shop: Shop, token: str, product_id: str, rating: int) -> None:
    body = {"rating": rating, "comment": ""}
    answer = shop.call("POST", f"/products/{product_id}/reviews", body, token)
    assert answer.status == 201, answer.text


def test_a_product_with_no_order_or_review_answers_zeros(shop: Shop) -> None:
    book = shop.product("Book", "19.99", stock=5)
    shop.stack.project()
    assert stats(shop, book) == ZERO


def test_only_admins_read_stats_of_products_that_exist(shop: Shop) -> None:
    book = shop.product("Book", stock=5)
    shop.stack.project()
    assert shop.call("GET", f"/products/{book}/stats").status == 401
    refused = shop.call("GET", f"/products/{book}/stats", token=shop.ada)
    assert (refused.status, refused.error_code) == (403, "admin_only")
    missing = shop.call("GET", "/products/nope/stats", token=shop.admin)
    assert (missing.status, missing.error_code) == (404, "product_not_found")
    hidden = shop.product("Hidden", stock=5, active=False)  # inactive: admins still see it
    shop.stack.project()
    assert stats(shop, hidden) == ZERO


def test_confirmed_orders_count_their_lines_of_the_product(shop: Shop) -> None:
    book, pen = shop.product("Book", "19.99", stock=10), shop.product("Pen", "2.50", stock=10)
    confirmed(shop, shop.ada, (book, 2), (pen, 1))
    assert sales(shop, book) == (1, 2, "39.98")
    assert sales(shop, pen) == (1, 1, "2.50")
    confirmed(shop, shop.bob, (book, 3))
    assert sales(shop, book) == (2, 5, "99.95")
    assert sales(shop, pen) == (1, 1, "2.50")


def test_an_order_cancelled_after_confirmation_is_taken_back(shop: Shop) -> None:
    book = shop.product("Book", "10.00", stock=10)
    kept = confirmed(shop, shop.ada, (book, 1))
    returned = confirmed(shop, shop.bob, (book, 4))
    assert sales(shop, book) == (2, 5, "50.00")
    cancelled = shop.call("POST", f"/orders/{returned}/cancel", token=shop.bob)
    assert cancelled.status == 200, cancelled.text
    assert sales(shop, book) == (1, 1, "10.00")
    assert shop.view(kept)["status"] == "confirmed"


def test_orders_cancelled_before_confirmation_never_count(shop: Shop) -> None:
    book = shop.product("Book", "10.00", stock=10)
    draft = str(shop.order(shop.ada, (book, 1))["id"])
    assert shop.call("POST", f"/orders/{draft}/cancel", token=shop.ada).status == 200
    declined = str(shop.order(shop.bob, (book, 2))["id"])
    shop.place(shop.bob, declined, DECLINED)
    short = str(shop.order(shop.ada, (book, 11))["id"])  # more than the stock
    shop.place(shop.ada, short)
    assert sales(shop, book) == (0, 0, "0.00")
    for order_id in (draft, declined, short):
        assert shop.view(order_id)["status"] == "cancelled"


def test_a_placed_order_counts_once_the_process_confirms_it(shop: Shop) -> None:
    book = shop.product("Book", "10.00", stock=10)
    placed = str(shop.order(shop.bob, (book, 1))["id"])
    shop.place(shop.bob, placed)
    assert stats(shop, book, process=False) == ZERO
    assert sales(shop, book) == (1, 1, "10.00")


def test_reviews_fill_the_ratings_and_a_replaced_one_moves_between_them(shop: Shop) -> None:
    book = shop.product("Book", stock=1)
    cy = shop.customer("cy")
    review(shop, shop.ada, book, 4)
    review(shop, shop.bob, book, 2)
    review(shop, cy, book, 5)
    review(shop, shop.ada, book, 5)  # replaces her 4
    found = stats(shop, book)
    assert found["review_count"] == 3
    assert found["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 2}
    assert found["average_rating"] == 4.0
    product = shop.call("GET", f"/products/{book}", token=shop.admin).json
    assert (found["average_rating"], found["review_count"]) == (
        product["average_rating"],
        product["review_count"],
    )
