"""A customer's rights over their data, through the real handlers on moto: the export
(everything held about them) and the erasure's reach into orders and reviews."""

from __future__ import annotations

from typing import Any

from tests.functions.conftest import Stack
from tests.functions.test_ordering_http import DECLINED, Shop


def export(shop: Shop, token: str) -> dict[str, Any]:
    answer = shop.call("GET", "/users/me/export", token=token)
    assert answer.status == 200, answer.text
    return dict(answer.json)


def test_the_export_holds_the_profile_orders_reviews_and_emails_sent(stack: Stack) -> None:
    shop = Shop(stack)
    book = shop.product("Refactoring", stock=5)
    confirmed = shop.order(shop.ada, (book, 2))
    shop.place(shop.ada, confirmed["id"])
    declined = shop.order(shop.ada, (book, 1))
    shop.place(shop.ada, declined["id"], DECLINED)
    shop.order(shop.bob, (book, 1))  # another's: not in ada's export
    review = {"rating": 4, "comment": "Dense, and worth it."}
    assert shop.call("POST", f"/products/{book}/reviews", review, shop.ada).status == 201
    stack.run_process()
    stack.call_outside()
    stack.run_process()
    stack.project()

    held = export(shop, shop.ada)

    assert held["profile"]["email"] == "ada@example.com"
    orders = {o["id"]: o for o in held["orders"]}
    assert set(orders) == {confirmed["id"], declined["id"]}
    assert orders[confirmed["id"]]["status"] == "confirmed"
    assert orders[confirmed["id"]]["items"][0]["quantity"] == 2
    assert orders[declined["id"]]["status"] == "cancelled"
    assert held["reviews"] == [
        {
            "product_id": book,
            "rating": 4,
            "comment": "Dense, and worth it.",
            "posted_at": held["reviews"][0]["posted_at"],
        }
    ]
    kinds = sorted(e["kind"] for e in held["emails"])
    assert kinds == ["order_cancelled", "order_confirmed", "welcome"]
    assert all(e["sent_at"] for e in held["emails"]), held["emails"]  # when each went out
    assert shop.call("GET", "/users/me/export").status == 401


def test_an_erased_customers_orders_stay_for_the_books_and_their_review_keeps_its_rating(
    stack: Stack,
) -> None:
    shop = Shop(stack)
    book = shop.product("Refactoring", stock=5)
    order = shop.order(shop.ada, (book, 1))
    shop.place(shop.ada, order["id"])
    review = {"rating": 5, "comment": "Ada's own words"}
    assert shop.call("POST", f"/products/{book}/reviews", review, shop.ada).status == 201
    stack.run_process()
    stack.project()

    erased = shop.call("DELETE", "/users/me", {"password": "ada password 1"}, shop.ada)
    assert erased.status == 204, erased.text
    stack.project()

    kept = shop.view(order["id"])
    assert kept["total"] == order["total"]
    product = shop.call("GET", f"/products/{book}").json
    assert (product["review_count"], product["average_rating"]) == (1, 5.0)
    tables = str([stack.client.scan(TableName=t)["Items"] for t in sorted(stack.tables.values())])
    assert "Ada's own words" not in tables
    assert "ada@example.com" not in tables.lower()
