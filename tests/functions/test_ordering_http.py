"""The ordering routes as the contract states them, through the real handlers on moto, and
the order process driven as deployed: its handler fed the order stream's records."""

from __future__ import annotations

from typing import Any

import pytest

from tests.domain.ordering.support import HAPPY_PATH
from tests.functions.conftest import NOTIFY_FROM, Stack
from tests.support.http_api import Answer
from tests.support.mail import ses_sent

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"


class Shop:
    """An admin, two customers (ada, bob) and a category, at the ordering routes."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.admin = stack.admin_token()
        self.ids: dict[str, str] = {}
        self.ada = self.customer("ada")
        self.bob = self.customer("bob")
        answer = self.call("POST", "/categories", {"name": "Books"}, self.admin)
        assert answer.status == 201, answer.text
        self.category = str(answer.json["id"])

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, **kw: Any
    ) -> Answer:
        return self.stack.api.request(method, path, json_body=body, token=token, **kw)

    def customer(self, name: str) -> str:
        body = {"email": f"{name}@example.com", "password": f"{name} password 1"}
        created = self.call("POST", "/users", body)
        assert created.status == 201, created.text
        self.ids[name] = str(created.json["id"])
        return str(self.call("POST", "/auth/token", body).json["access_token"])

    def product(
        self, name: str, price: str = "20.00", *, stock: int | None = None, active: bool = True
    ) -> str:
        body = {"name": name, "description": "d", "price": price, "category_id": self.category}
        created = self.call("POST", "/products", body, self.admin)
        assert created.status == 201, created.text
        pid = str(created.json["id"])
        if active:
            assert self.call("POST", f"/products/{pid}/activate", token=self.admin).status == 200
        if stock is not None:
            counted = self.call("PUT", f"/inventory/{pid}", {"on_hand": stock}, self.admin)
            assert counted.status == 200, counted.text
        return pid

    def order(self, token: str, *lines: tuple[str, int]) -> dict[str, Any]:
        items = [{"product_id": pid, "quantity": quantity} for pid, quantity in lines]
        answer = self.call("POST", "/orders", {"items": items}, token)
        assert answer.status == 201, answer.text
        return dict(answer.json)

    def place(self, token: str, order_id: str, method: str = VISA) -> dict[str, Any]:
        answer = self.call("POST", f"/orders/{order_id}/place", {"payment_method": method}, token)
        assert answer.status == 202, answer.text
        return dict(answer.json)

    def view(self, order_id: str, token: str | None = None) -> dict[str, Any]:
        answer = self.call("GET", f"/orders/{order_id}", token=token or self.admin)
        assert answer.status == 200, answer.text
        return dict(answer.json)

    def history(self, order_id: str) -> list[str]:
        answer = self.call("GET", f"/orders/{order_id}/history", token=self.admin)
        assert answer.status == 200, answer.text
        return [e["type"] for e in answer.json["events"]]

    def levels(self, pid: str) -> dict[str, int]:
        answer = self.call("GET", f"/inventory/{pid}", token=self.admin)
        assert answer.status == 200, answer.text
        return {k: answer.json[k] for k in ("on_hand", "reserved", "available")}


@pytest.fixture
def shop(stack: Stack) -> Shop:
    return Shop(stack)


def levels(on_hand: int, reserved: int = 0) -> dict[str, int]:
    return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


# -- who may call ----------------------------------------------------------------------

ROUTES = [
    ("POST", "/orders", {"items": []}),
    ("POST", "/orders/o1/items", {"product_id": "p1", "quantity": 1}),
    ("DELETE", "/orders/o1/items/p1", None),
    ("POST", "/orders/o1/place", {"payment_method": VISA}),
    ("POST", "/orders/o1/cancel", None),
    ("PUT", "/inventory/p1", {"on_hand": 1}),
    ("GET", "/inventory/p1", None),
    ("GET", "/orders/o1", None),
    ("GET", "/orders", None),
    ("GET", "/orders/o1/history", None),
]


def test_every_ordering_route_needs_a_token(stack: Stack) -> None:
    for method, path, body in ROUTES:
        answer = stack.api.request(method, path, json_body=body)
        assert answer.status == 401, f"{method} {path}: {answer.text}"
        assert answer.json["error"]["code"], f"{method} {path}"


# -- orders and their items ------------------------------------------------------------


def test_a_new_order_is_a_draft_priced_by_the_catalogue(shop: Shop) -> None:
    book = shop.product("Refactoring", "45.50")
    pen = shop.product("Pen", "2.25")
    answer = shop.call(
        "POST",
        "/orders",
        {
            "items": [
                {"product_id": book, "quantity": 2},
                {"product_id": pen, "quantity": 3},
                {"product_id": book, "quantity": 1},  # the same product twice adds up
            ]
        },
        shop.ada,
    )
    assert answer.status == 201, answer.text
    order = answer.json
    assert set(order) >= {"id", "version", "status", "total", "items"}
    assert (order["status"], order["total"], order["customer_id"]) == (
        "draft",
        "143.25",
        shop.ids["ada"],
    )
    assert order["version"] == 4  # created + three additions
    assert answer.headers["etag"] == '"4"'
    assert order["items"] == [
        {
            "product_id": book,
            "name": "Refactoring",
            "unit_price": "45.50",
            "quantity": 3,
            "subtotal": "136.50",
        },
        {"product_id": pen, "name": "Pen", "unit_price": "2.25", "quantity": 3, "subtotal": "6.75"},
    ]
    # An order takes the catalogue's price of the moment.
    assert shop.call("PUT", f"/products/{pen}/price", {"price": "3.00"}, shop.admin).status == 200
    again = shop.order(shop.bob, (pen, 1))
    assert (again["items"][0]["unit_price"], again["total"]) == ("3.00", "3.00")
    # More of a line already in the order: all its units at the catalogue's price now.
    more = shop.call(
        "POST", f"/orders/{order['id']}/items", {"product_id": pen, "quantity": 1}, shop.ada
    )
    assert more.status == 200, more.text
    assert more.json["items"][1] == {
        "product_id": pen,
        "name": "Pen",
        "unit_price": "3.00",
        "quantity": 4,
        "subtotal": "12.00",
    }
    assert more.json["total"] == "148.50"
    empty = shop.order(shop.ada)
    assert (empty["items"], empty["total"], empty["version"]) == ([], "0.00", 1)


def test_bad_new_orders_are_refused(shop: Shop) -> None:
    book = shop.product("Refactoring")
    hidden = shop.product("Hidden", active=False)
    refused: list[tuple[Any, int, str]] = [
        ([{"product_id": book, "quantity": 1, "price": "0.01"}], 400, "invalid_request"),
        ([{"product_id": book, "quantity": 0}], 400, "invalid_quantity"),
        ([{"product_id": book, "quantity": -1}], 400, "invalid_quantity"),
        ([{"product_id": book, "quantity": 1001}], 400, "invalid_quantity"),
        ([{"product_id": book, "quantity": "1"}], 400, "invalid_request"),
        ([{"product_id": book, "quantity": 1.0}], 400, "invalid_request"),
        ([{"product_id": book, "quantity": True}], 400, "invalid_request"),
        ([{"product_id": book}], 400, "invalid_request"),
        ([{"product_id": "ghost", "quantity": 1}], 422, "product_unavailable"),
        ([{"product_id": hidden, "quantity": 1}], 422, "product_unavailable"),
        ("all of it", 400, "invalid_request"),
    ]
    for items, status, code in refused:
        answer = shop.call("POST", "/orders", {"items": items}, shop.ada)
        assert (answer.status, answer.error_code) == (status, code), f"{items}: {answer.text}"
    total = shop.call("POST", "/orders", {"items": [], "total": "0.01"}, shop.ada)
    assert total.status == 400
    # The refused item is named in the details, at its place in the request.
    answer = shop.call(
        "POST",
        "/orders",
        {"items": [{"product_id": book, "quantity": 1}, {"product_id": hidden, "quantity": 1}]},
        shop.ada,
    )
    assert answer.json["error"]["details"] == [
        {"field": "items[1].product_id", "issue": "names no active product"}
    ]
    shop.stack.project()
    listed = shop.call("GET", "/orders", token=shop.ada)
    assert listed.json["items"] == []  # nothing refused left an order behind


def test_items_are_added_to_a_line_and_removed(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00")
    pen = shop.product("Pen", "1.50")
    order = shop.order(shop.ada, (book, 1))
    oid = order["id"]
    added = shop.call("POST", f"/orders/{oid}/items", {"product_id": book, "quantity": 2}, shop.ada)
    assert added.status == 200, added.text
    assert [(i["product_id"], i["quantity"]) for i in added.json["items"]] == [(book, 3)]
    assert (added.json["total"], added.json["version"]) == ("30.00", 3)
    assert added.headers["etag"] == '"3"'
    other = shop.call("POST", f"/orders/{oid}/items", {"product_id": pen, "quantity": 2}, shop.ada)
    assert other.json["total"] == "33.00"
    removed = shop.call("DELETE", f"/orders/{oid}/items/{book}", token=shop.ada)
    assert removed.status == 200, removed.text
    assert [i["product_id"] for i in removed.json["items"]] == [pen]
    assert (removed.json["total"], removed.json["version"]) == ("3.00", 5)
    assert removed.headers["etag"] == '"5"'

    absent = shop.call("DELETE", f"/orders/{oid}/items/{book}", token=shop.ada)
    assert (absent.status, absent.error_code) == (422, "not_in_order")
    for body, status in [
        ({"product_id": pen, "quantity": 0}, 400),
        ({"product_id": pen, "quantity": "2"}, 400),
        ({"product_id": pen, "quantity": 1, "price": "0.01"}, 400),
        ({"product_id": "ghost", "quantity": 1}, 422),
        ({"product_id": pen, "quantity": 1000}, 422),  # 2 + 1000 over the line's limit
    ]:
        answer = shop.call("POST", f"/orders/{oid}/items", body, shop.ada)
        assert answer.status == status, f"{body}: {answer.text}"
    # Another customer does not see the order; an admin sees it but does not fill it.
    bob_add = shop.call(
        "POST", f"/orders/{oid}/items", {"product_id": pen, "quantity": 1}, shop.bob
    )
    assert (bob_add.status, bob_add.error_code) == (404, "order_not_found")
    assert shop.call("DELETE", f"/orders/{oid}/items/{pen}", token=shop.bob).status == 404
    admin_add = shop.call(
        "POST", f"/orders/{oid}/items", {"product_id": pen, "quantity": 1}, shop.admin
    )
    assert (admin_add.status, admin_add.error_code) == (403, "owner_only")
    ghost = shop.call("POST", "/orders/ghost/items", {"product_id": pen, "quantity": 1}, shop.ada)
    assert ghost.status == 404
    shop.stack.project()
    view = shop.view(oid, shop.ada)
    assert (view["version"], view["items"], view["total"]) == (5, removed.json["items"], "3.00")


def test_if_match_guards_every_order_command(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00", stock=5)
    oid = shop.order(shop.ada, (book, 1))["id"]  # version 2
    line = {"product_id": book, "quantity": 1}
    stale = {"If-Match": '"1"'}
    for method, path, body in [
        ("POST", f"/orders/{oid}/items", line),
        ("DELETE", f"/orders/{oid}/items/{book}", None),
        ("POST", f"/orders/{oid}/place", {"payment_method": VISA}),
        ("POST", f"/orders/{oid}/cancel", None),
    ]:
        answer = shop.call(method, path, body, shop.ada, headers=stale)
        assert (answer.status, answer.error_code) == (412, "version_mismatch"), f"{path}"
    bad = shop.call("POST", f"/orders/{oid}/items", line, shop.ada, headers={"If-Match": "v2"})
    assert bad.status == 400
    added = shop.call("POST", f"/orders/{oid}/items", line, shop.ada, headers={"If-Match": '"2"'})
    assert (added.status, added.headers["etag"]) == (200, '"3"')
    placed = shop.call(
        "POST",
        f"/orders/{oid}/place",
        {"payment_method": VISA},
        shop.ada,
        headers={"If-Match": 'W/"3"'},
    )
    assert (placed.status, placed.headers["etag"]) == (202, '"4"')
    assert placed.json == {"id": oid, "status": "placed", "version": 4}
    cancelled = shop.call(
        "POST", f"/orders/{oid}/cancel", token=shop.ada, headers={"If-Match": '"4"'}
    )
    assert (cancelled.status, cancelled.headers["etag"]) == (200, '"5"')


def test_placing_needs_a_supported_method_a_filled_draft_and_happens_once(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00", stock=5)
    oid = shop.order(shop.ada, (book, 2))["id"]
    for body, code in [
        ({"payment_method": "pm_card_amex"}, "unsupported_payment_method"),
        ({"payment_method": "  "}, "invalid_payment_method"),
        ({"payment_method": 42}, "invalid_request"),
        ({}, "invalid_request"),
    ]:
        answer = shop.call("POST", f"/orders/{oid}/place", body, shop.ada)
        assert (answer.status, answer.error_code) == (400, code), f"{body}: {answer.text}"
    empty = shop.order(shop.ada)["id"]
    refused = shop.call("POST", f"/orders/{empty}/place", {"payment_method": VISA}, shop.ada)
    assert (refused.status, refused.error_code) == (422, "empty_order")
    assert (
        shop.call("POST", f"/orders/{oid}/place", {"payment_method": VISA}, shop.bob).status == 404
    )
    admin = shop.call("POST", f"/orders/{oid}/place", {"payment_method": VISA}, shop.admin)
    assert admin.status == 403

    placed = shop.call("POST", f"/orders/{oid}/place", {"payment_method": VISA}, shop.ada)
    assert placed.status == 202, placed.text
    assert placed.json == {"id": oid, "status": "placed", "version": 3}
    assert placed.headers["etag"] == '"3"'
    again = shop.call("POST", f"/orders/{oid}/place", {"payment_method": VISA}, shop.ada)
    assert (again.status, again.error_code) == (422, "order_not_draft")
    late = shop.call("POST", f"/orders/{oid}/items", {"product_id": book, "quantity": 1}, shop.ada)
    assert (late.status, late.error_code) == (422, "order_not_draft")
    assert shop.call("DELETE", f"/orders/{oid}/items/{book}", token=shop.ada).status == 422
    # A product withdrawn since it was added is not sold.
    withdrawn = shop.order(shop.ada, (book, 1))["id"]
    body = {"reason": "recall"}
    assert shop.call("POST", f"/products/{book}/deactivate", body, shop.admin).status == 200
    answer = shop.call("POST", f"/orders/{withdrawn}/place", {"payment_method": VISA}, shop.ada)
    assert (answer.status, answer.error_code) == (422, "product_unavailable")


def test_owners_and_admins_cancel_and_others_do_not_see_the_order(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00")
    mine = shop.order(shop.ada, (book, 1))["id"]
    other_order = shop.order(shop.ada, (book, 1))["id"]
    by_bob = shop.call("POST", f"/orders/{mine}/cancel", token=shop.bob)
    assert (by_bob.status, by_bob.error_code) == (404, "order_not_found")
    assert shop.call("POST", "/orders/ghost/cancel", token=shop.ada).status == 404

    cancelled = shop.call("POST", f"/orders/{mine}/cancel", token=shop.ada)
    assert cancelled.status == 200, cancelled.text
    assert cancelled.json == {
        "id": mine,
        "status": "cancelled",
        "reason": "cancelled_by_customer",
        "version": 3,
    }
    assert cancelled.headers["etag"] == '"3"'
    twice = shop.call("POST", f"/orders/{mine}/cancel", token=shop.ada)
    assert (twice.status, twice.error_code) == (422, "cannot_cancel")
    by_admin = shop.call("POST", f"/orders/{other_order}/cancel", token=shop.admin)
    assert (by_admin.status, by_admin.json["reason"]) == (200, "cancelled_by_admin")
    shop.stack.project()
    view = shop.view(other_order, shop.ada)
    assert (view["status"], view["reason"], view["version"]) == (
        "cancelled",
        "cancelled_by_admin",
        3,
    )


def test_an_idempotency_key_replays_the_first_new_order(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00")
    body = {"items": [{"product_id": book, "quantity": 2}]}
    key = {"Idempotency-Key": "order-1"}
    first = shop.call("POST", "/orders", body, shop.ada, headers=key)
    assert first.status == 201, first.text
    again = shop.call("POST", "/orders", body, shop.ada, headers=key)
    assert (again.status, again.json, again.headers["etag"]) == (
        201,
        first.json,
        first.headers["etag"],
    )
    changed = {"items": [{"product_id": book, "quantity": 3}]}
    reused = shop.call("POST", "/orders", changed, shop.ada, headers=key)
    assert (reused.status, reused.error_code) == (409, "idempotency_key_reused")
    # A key is the caller's own: bob's same key starts bob's own order.
    bobs = shop.call("POST", "/orders", body, shop.bob, headers=key)
    assert bobs.status == 201
    assert bobs.json["id"] != first.json["id"]
    # A refusal is not stored: the same key decides again.
    bad = {"items": [{"product_id": "ghost", "quantity": 1}]}
    retry = {"Idempotency-Key": "order-2"}
    assert shop.call("POST", "/orders", bad, shop.ada, headers=retry).status == 422
    assert shop.call("POST", "/orders", bad, shop.ada, headers=retry).status == 422
    shop.stack.project()
    listed = shop.call("GET", "/orders", token=shop.ada).json["items"]
    assert [o["id"] for o in listed] == [first.json["id"]]
    order_streams = {
        r["stream_id"]["S"]
        for r in shop.stack.client.scan(TableName=shop.stack.tables["EventsTable"])["Items"]
        if r["stream_id"]["S"].startswith("order-")
    }
    assert order_streams == {f"order-{first.json['id']}", f"order-{bobs.json['id']}"}


# -- inventory -----------------------------------------------------------------------------


def test_stock_is_counted_by_admins_and_never_below_what_orders_hold(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr("functions.shared.http.WAIT_SECONDS", 0.05)
    book = shop.product("Refactoring", "10.00")
    path = f"/inventory/{book}"
    assert shop.call("PUT", path, {"on_hand": 5}, shop.ada).status == 403
    assert shop.call("GET", path, token=shop.ada).status == 403
    for body in ({"on_hand": -1}, {"on_hand": "5"}, {"on_hand": 1_000_001}, {}, {"on_hand": 5.0}):
        answer = shop.call("PUT", path, body, shop.admin)
        assert answer.status == 400, f"{body}: {answer.text}"
    ghost = shop.call("PUT", "/inventory/ghost", {"on_hand": 5}, shop.admin)
    assert (ghost.status, ghost.error_code) == (404, "product_not_found")
    before = shop.call("GET", path, token=shop.admin)
    assert before.status == 200
    assert before.json == {
        "product_id": book,
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "version": 0,
    }

    counted = shop.call("PUT", path, {"on_hand": 5}, shop.admin, headers={"If-Match": '"0"'})
    assert counted.status == 200, counted.text
    assert counted.json == {
        "product_id": book,
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
        "version": 1,
    }
    assert counted.headers["etag"] == '"1"'
    stale = shop.call("PUT", path, {"on_hand": 6}, shop.admin, headers={"If-Match": '"0"'})
    assert stale.status == 412
    same = shop.call("PUT", path, {"on_hand": 5}, shop.admin)
    assert (same.status, same.json["version"]) == (200, 1)  # the same count records nothing
    shop.stack.project()
    seen = shop.call("GET", path, token=shop.admin, query={"min_version": "1"})
    assert (seen.status, seen.headers["etag"]) == (200, '"1"')
    ahead = shop.call("GET", path, token=shop.admin, query={"min_version": "4"})
    assert (ahead.status, ahead.error_code) == (400, "min_version_ahead")
    assert seen.json == counted.json

    # An order placed and reserved (the process's first step only) holds 3 units.
    oid = shop.order(shop.ada, (book, 3))["id"]
    assert shop.stack.run_process() == []  # a draft calls for no step
    shop.place(shop.ada, oid)
    assert shop.stack.run_process(rounds=1) == []
    assert shop.view(oid)["status"] == "placed"
    assert shop.history(oid)[-1] == "OrderStockReserved"
    assert shop.levels(book) == levels(5, reserved=3)
    below = shop.call("PUT", path, {"on_hand": 2}, shop.admin)
    assert (below.status, below.error_code) == (422, "below_reserved")
    assert below.json["error"]["details"] == [{"field": "on_hand", "issue": "at least 3"}]
    exact = shop.call("PUT", path, {"on_hand": 3}, shop.admin)
    assert exact.status == 200, exact.text
    assert (exact.json["available"], exact.json["reserved"]) == (0, 3)
    assert shop.stack.run_process() == []
    assert shop.view(oid)["status"] == "confirmed"
    assert shop.levels(book) == levels(0)


# -- reading orders --------------------------------------------------------------------


def test_an_order_is_seen_by_its_owner_and_admins_only(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr("functions.shared.http.WAIT_SECONDS", 0.2)
    book = shop.product("Refactoring", "10.00")
    order = shop.order(shop.ada, (book, 2))
    oid = order["id"]
    shop.stack.project()
    seen = shop.call("GET", f"/orders/{oid}", token=shop.ada, query={"min_version": "2"})
    assert seen.status == 200, seen.text
    assert seen.json == {
        "id": oid,
        "customer_id": shop.ids["ada"],
        "status": "draft",
        "reason": None,
        "items": order["items"],
        "total": "20.00",
        "version": 2,
        "created_at": order["created_at"],
        "placed_at": None,
        "confirmed_at": None,
        "cancelled_at": None,
    }
    assert seen.headers["etag"] == '"2"'
    assert shop.view(oid) == seen.json  # the admin's
    for query in (None, {"min_version": "1"}, {"min_version": "2"}):
        hidden = shop.call("GET", f"/orders/{oid}", token=shop.bob, query=query)
        assert (hidden.status, hidden.error_code) == (404, "order_not_found"), query
    assert shop.call("GET", "/orders/ghost", token=shop.ada).status == 404
    ahead = shop.call("GET", f"/orders/{oid}", token=shop.ada, query={"min_version": "3"})
    assert (ahead.status, ahead.error_code) == (400, "min_version_ahead")
    assert "the latest is 2" in ahead.json["error"]["message"]
    # another's order past its latest version is still only a 404: nothing leaks
    hidden = shop.call("GET", f"/orders/{oid}", token=shop.bob, query={"min_version": "3"})
    assert (hidden.status, hidden.error_code) == (404, "order_not_found")
    shop.call("POST", f"/orders/{oid}/items", {"product_id": book, "quantity": 1}, shop.ada)
    behind = shop.call("GET", f"/orders/{oid}", token=shop.ada, query={"min_version": "3"})
    assert (behind.status, behind.headers["retry-after"]) == (503, "1")  # 3 exists, unseen
    assert (
        shop.call("GET", f"/orders/{oid}", token=shop.ada, query={"min_version": "0"}).status == 400
    )


def test_orders_are_listed_newest_first_page_by_page(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00")
    adas = [shop.order(shop.ada, (book, n))["id"] for n in range(1, 6)]
    bobs = [shop.order(shop.bob, (book, 1))["id"] for _ in range(2)]
    shop.stack.project()

    def pages(token: str, query: dict[str, str]) -> tuple[list[str], int]:
        seen: list[str] = []
        cursor: str | None = None
        count = 0
        while True:
            answer = shop.call(
                "GET", "/orders", token=token, query=query | ({"cursor": cursor} if cursor else {})
            )
            assert answer.status == 200, answer.text
            assert len(answer.json["items"]) <= int(query["limit"])
            seen += [o["id"] for o in answer.json["items"]]
            count += 1
            cursor = answer.json["next_cursor"]
            if cursor is None:
                return seen, count

    newest_first = list(reversed(adas))
    mine, count = pages(shop.ada, {"limit": "2"})
    assert mine == newest_first
    assert count >= 3
    # A customer's ?customer_id= is ignored: still their own.
    assert pages(shop.ada, {"limit": "2", "customer_id": shop.ids["bob"]})[0] == newest_first
    assert pages(shop.bob, {"limit": "10"})[0] == list(reversed(bobs))
    assert pages(shop.admin, {"limit": "3", "customer_id": shop.ids["ada"]})[0] == newest_first
    everyone = list(reversed(adas + bobs))
    assert pages(shop.admin, {"limit": "3"})[0] == everyone
    first = shop.call("GET", "/orders", token=shop.ada, query={"limit": "2"}).json
    assert [o["status"] for o in first["items"]] == ["draft", "draft"]
    assert first["items"][0]["customer_id"] == shop.ids["ada"]
    assert "state" not in first["items"][0]
    # Ada's cursor does not open bob's listing, nor a forged one anything.
    for cursor in (first["next_cursor"], "garbage"):
        foreign = shop.call("GET", "/orders", token=shop.bob, query={"cursor": cursor})
        assert foreign.status == 400, foreign.text
    for bad in ({"limit": "0"}, {"limit": "101"}, {"limit": "many"}):
        assert shop.call("GET", "/orders", token=shop.ada, query=bad).status == 400


def test_an_orders_history_is_its_events_for_its_owner_and_admins(shop: Shop) -> None:
    book = shop.product("Refactoring", "10.00")
    oid = shop.order(shop.ada, (book, 1))["id"]
    shop.call("POST", f"/orders/{oid}/items", {"product_id": book, "quantity": 1}, shop.ada)
    shop.call("POST", f"/orders/{oid}/cancel", token=shop.ada)
    answer = shop.call("GET", f"/orders/{oid}/history", token=shop.ada)
    assert answer.status == 200, answer.text
    events = answer.json["events"]
    assert [(e["version"], e["type"]) for e in events] == [
        (1, "OrderCreated"),
        (2, "OrderItemAdded"),
        (3, "OrderItemAdded"),
        (4, "OrderCancelled"),
    ]
    assert events[1]["data"]["unit_price"] == "10.00"
    assert events[3]["data"]["reason"] == "cancelled_by_customer"
    assert events[0]["occurred_at"].endswith("Z")
    # Our correlation and causation ids, and who did what, are for admins only.
    assert all(e["metadata"] is None for e in events)
    seen_by_admin = shop.call("GET", f"/orders/{oid}/history", token=shop.admin).json["events"]
    assert [{**e, "metadata": None} for e in seen_by_admin] == events
    assert seen_by_admin[0]["metadata"]["user_id"] == shop.ids["ada"]
    assert seen_by_admin[0]["metadata"]["correlation_id"]
    hidden = shop.call("GET", f"/orders/{oid}/history", token=shop.bob)
    assert (hidden.status, hidden.error_code) == (404, "order_not_found")
    assert shop.call("GET", "/orders/ghost/history", token=shop.admin).status == 404


# -- the order process ---------------------------------------------------------------------


CONFIRMED_ORDERS_LAST_EVENTS = HAPPY_PATH[3:]
"""What the order process records from placing to the confirmation email, in order."""


def test_a_visa_order_is_reserved_charged_confirmed_and_mailed(shop: Shop) -> None:
    book = shop.product("Refactoring", "20.00", stock=5)
    pen = shop.product("Pen", "2.50", stock=4)
    oid = shop.order(shop.ada, (book, 2), (pen, 4))["id"]
    shop.place(shop.ada, oid)
    assert shop.stack.run_process() == []
    view = shop.view(oid, shop.ada)
    assert (view["status"], view["reason"], view["total"]) == ("confirmed", None, "50.00")
    assert view["created_at"] <= view["placed_at"] <= view["confirmed_at"]
    assert view["confirmed_at"].endswith("Z")
    assert view["cancelled_at"] is None
    history = shop.history(oid)
    assert history[-6:] == CONFIRMED_ORDERS_LAST_EVENTS
    assert view["version"] == len(history)
    assert shop.levels(book) == levels(3)
    assert shop.levels(pen) == levels(0)
    sent = [m for m in ses_sent() if oid in str(m.subject)]
    assert len(sent) == 1
    assert sent[0].source == NOTIFY_FROM
    assert sent[0].destinations["ToAddresses"] == ["ada@example.com"]
    # Redelivering the whole order stream does nothing more: no step is left.
    shop.stack.processed.clear()
    assert shop.stack.run_process() == []
    assert shop.history(oid) == history
    assert len([m for m in ses_sent() if oid in str(m.subject)]) == 1

    # Cancelled after confirmation: refunded, the units back on hand.
    cancelled = shop.call("POST", f"/orders/{oid}/cancel", token=shop.ada)
    assert cancelled.status == 200, cancelled.text
    assert shop.stack.run_process() == []
    assert shop.history(oid)[-4:] == [
        "OrderCancelled",
        "OrderStockReturned",
        "PaymentRefunded",
        "CancellationSent",
    ]
    told = [m for m in ses_sent() if m.subject == f"Order {oid} cancelled"]
    assert len(told) == 1
    assert "Your payment of 50.00 is refunded." in told[0].body
    after = shop.view(oid)
    assert after["status"] == "cancelled"
    assert after["cancelled_at"] >= after["confirmed_at"] == view["confirmed_at"]
    assert shop.levels(book) == levels(5)
    assert shop.levels(pen) == levels(4)


def test_every_step_of_the_order_process_counts_once_when_every_write_loses_its_ack(
    shop: Shop,
) -> None:
    from event_sourcing.testing.lost_ack import LostAcks
    from infra import container as composition

    book = shop.product("Refactoring", "20.00", stock=5)
    oid = shop.order(shop.ada, (book, 2))["id"]
    losing = composition.Container()
    losing.__dict__["dynamodb"] = LostAcks(shop.stack.client)
    composition.use(losing)
    shop.place(shop.ada, oid)
    assert shop.stack.run_process() == []

    assert losing.dynamodb.lost > 0  # type: ignore[attr-defined]
    assert shop.history(oid)[-6:] == CONFIRMED_ORDERS_LAST_EVENTS
    assert shop.history(oid).count("OrderPlaced") == 1
    assert shop.levels(book) == levels(3)
    assert len([m for m in ses_sent() if oid in str(m.subject)]) == 1


def test_a_declined_card_cancels_the_order_and_puts_the_stock_back(shop: Shop) -> None:
    book = shop.product("Refactoring", "20.00", stock=2)
    oid = shop.order(shop.bob, (book, 2))["id"]
    shop.place(shop.bob, oid, DECLINED)
    assert shop.stack.run_process() == []
    view = shop.view(oid, shop.bob)
    assert (view["status"], view["reason"]) == ("cancelled", "payment_declined")
    assert shop.history(oid)[-6:] == [
        "OrderStockReserved",
        "PaymentRequested",
        "PaymentDeclined",
        "OrderCancelled",
        "OrderStockReleased",
        "CancellationSent",
    ]
    assert shop.levels(book) == levels(2)
    # no confirmation; one email saying why, and that nothing was charged
    (told,) = [m for m in ses_sent() if oid in str(m.subject)]
    assert told.subject == f"Order {oid} cancelled"
    assert "payment declined (card declined)" in told.body
    assert "Nothing was charged." in told.body


def test_an_order_short_of_stock_is_cancelled_and_reserves_nothing(shop: Shop) -> None:
    book = shop.product("Refactoring", "20.00", stock=5)
    scarce = shop.product("Scarce", "5.00", stock=1)
    oid = shop.order(shop.ada, (book, 2), (scarce, 2))["id"]
    shop.place(shop.ada, oid)
    assert shop.stack.run_process() == []
    view = shop.view(oid)
    assert (view["status"], view["reason"]) == ("cancelled", "out_of_stock")
    assert shop.history(oid)[-3:] == ["OrderPlaced", "OrderCancelled", "CancellationSent"]
    assert shop.levels(book) == levels(5)  # none of the lines was reserved
    assert shop.levels(scarce) == levels(1)
    never = shop.product("Never Counted", "5.00")
    other = shop.order(shop.bob, (never, 1))["id"]
    shop.place(shop.bob, other)
    assert shop.stack.run_process() == []
    assert shop.view(other)["reason"] == "out_of_stock"


def test_an_order_cancelled_while_its_charge_is_asked_for_is_refunded(shop: Shop) -> None:
    book = shop.product("Refactoring", "20.00", stock=3)
    oid = shop.order(shop.ada, (book, 2))["id"]
    assert shop.stack.run_process() == []
    shop.place(shop.ada, oid)
    assert shop.stack.run_process(rounds=1) == []  # reserved
    assert shop.stack.run_process(rounds=1) == []  # the charge announced, not yet made
    assert shop.history(oid)[-2:] == ["OrderStockReserved", "PaymentRequested"]
    assert shop.levels(book) == levels(3, reserved=2)
    cancelled = shop.call("POST", f"/orders/{oid}/cancel", token=shop.ada)
    assert cancelled.status == 200, cancelled.text
    assert shop.stack.run_process() == []
    # The charge may exist: it is asked for again (same key), then refunded.
    assert shop.history(oid)[-5:] == [
        "OrderCancelled",
        "OrderStockReleased",
        "PaymentCharged",
        "PaymentRefunded",
        "CancellationSent",
    ]
    view = shop.view(oid)
    assert (view["status"], view["reason"]) == ("cancelled", "cancelled_by_customer")
    assert shop.levels(book) == levels(3)
    (told,) = [m for m in ses_sent() if oid in str(m.subject)]  # no confirmation
    assert "Your payment of 40.00 is refunded." in told.body


def test_a_product_just_ordered_cannot_be_deleted_before_any_view_knows_the_order(
    shop: Shop,
) -> None:
    """The hold is part of the order's own write: no projection has run here."""
    spade = shop.product("Spade", "9.00")
    draft = shop.order(shop.bob, (spade, 1))["id"]
    held = shop.call("DELETE", f"/products/{spade}", token=shop.admin)
    assert (held.status, held.error_code) == (422, "product_in_orders")
    assert shop.call("POST", f"/orders/{draft}/cancel", token=shop.bob).status == 200
    assert shop.call("DELETE", f"/products/{spade}", token=shop.admin).status == 200
    # And once deleted, no order takes it, whatever the views say yet.
    items = {"items": [{"product_id": spade, "quantity": 1}]}
    gone = shop.call("POST", "/orders", items, shop.bob)
    assert (gone.status, gone.error_code) == (422, "product_unavailable")


def test_a_product_held_by_an_order_cannot_be_deleted_until_it_is_released(shop: Shop) -> None:
    book = shop.product("Refactoring", "20.00", stock=5)
    pen = shop.product("Pen", "1.00")
    free = shop.product("Free", "1.00")
    # A draft holds its products until they are removed.
    draft = shop.order(shop.bob, (pen, 1), (free, 1))["id"]
    shop.stack.project()
    for pid in (pen, free):
        held = shop.call("DELETE", f"/products/{pid}", token=shop.admin)
        assert (held.status, held.error_code) == (422, "product_in_orders")
    shop.call("DELETE", f"/orders/{draft}/items/{free}", token=shop.bob)
    shop.stack.project()
    assert shop.call("DELETE", f"/products/{free}", token=shop.admin).status == 200
    assert shop.call("DELETE", f"/products/{pen}", token=shop.admin).status == 422
    # A confirmed order holds its products until it is cancelled.
    oid = shop.order(shop.ada, (book, 1))["id"]
    shop.place(shop.ada, oid)
    assert shop.stack.run_process() == []
    assert shop.view(oid)["status"] == "confirmed"
    held = shop.call("DELETE", f"/products/{book}", token=shop.admin)
    assert (held.status, held.error_code) == (422, "product_in_orders")
    assert shop.call("POST", f"/orders/{oid}/cancel", token=shop.ada).status == 200
    assert shop.stack.run_process() == []
    deleted = shop.call("DELETE", f"/products/{book}", token=shop.admin)
    assert deleted.status == 200, deleted.text
    assert deleted.json["deleted"] is True
    # A deleted product cannot be ordered.
    gone = shop.call("POST", "/orders", {"items": [{"product_id": book, "quantity": 1}]}, shop.ada)
    assert (gone.status, gone.error_code) == (422, "product_unavailable")


def test_the_stock_of_a_product_that_does_not_exist_is_a_404(stack: Stack) -> None:
    shop = Shop(stack)
    counted = shop.product("Counted", stock=2)
    never_counted = shop.product("Never counted")
    stack.project()

    missing = shop.call("GET", "/inventory/no-such-product", token=shop.admin)

    assert (missing.status, missing.error_code) == (404, "product_not_found")
    assert shop.levels(counted)["on_hand"] == 2
    assert shop.levels(never_counted) == {"on_hand": 0, "reserved": 0, "available": 0}


def test_placing_an_order_with_stripe_imports_no_stripe_and_reads_no_stripe_secret(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why OrderingCommandsFunction carries neither the Stripe layer nor the Stripe secret
    (template.yaml): placing only checks the payment method's form; the order process charges.
    Its role (SAM's translation) grants no Stripe secret, and stripe cannot be imported here."""
    import sys

    from infra import container as composition

    book = shop.product("Refactoring", "10.00", stock=5)
    oid = shop.order(shop.ada, (book, 1))["id"]
    monkeypatch.setenv("PAYMENT_PROVIDER", "stripe")
    monkeypatch.setenv("STRIPE_SECRET", "arn:aws:secretsmanager:us-east-1:123456789012:secret:s")
    monkeypatch.setitem(sys.modules, "stripe", None)  # `import stripe` raises ImportError
    composition.use(None)

    placed = shop.call("POST", f"/orders/{oid}/place", {"payment_method": VISA}, shop.ada)

    assert placed.status == 202, placed.text
    assert type(composition.container().payments).__name__ == "StripePayments"
