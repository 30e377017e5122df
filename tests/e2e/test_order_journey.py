"""The order journey over HTTP against the local stack: the order process runs as the
event table's second stream reader, exactly as deployed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client

pytestmark = pytest.mark.e2e

SETTLED = ("confirmed", "cancelled")


@pytest.fixture(scope="module")
def admin(api: Client) -> str:
    return api.token(ADMIN_EMAIL, ADMIN_PASSWORD)


def customer(api: Client, name: str) -> str:
    api.call("POST", "/users", {"email": f"{name}@orders.example.com", "password": "customer pass"})
    return api.token(f"{name}@orders.example.com", "customer pass")


def on_sale(api: Client, admin: str, name: str, price: str, stock: int) -> str:
    category = api.call("POST", "/categories", {"name": f"Cat {name}"}, token=admin).json()["id"]
    body = {"name": name, "description": "for orders", "price": price, "category_id": category}
    pid = str(api.call("POST", "/products", body, token=admin).json()["id"])
    assert api.call("POST", f"/products/{pid}/activate", token=admin).status_code == 200
    assert api.call("PUT", f"/inventory/{pid}", {"on_hand": stock}, token=admin).status_code == 200
    return pid


def settled(api: Client, token: str, order_id: str, timeout: float = 20) -> dict[str, Any]:
    """The order once the process has taken it as far as it goes."""
    deadline = time.monotonic() + timeout
    while True:
        answer = api.call("GET", f"/orders/{order_id}", token=token)
        if answer.status_code == 200 and answer.json()["status"] in SETTLED:
            history = api.call("GET", f"/orders/{order_id}/history", token=token).json()["events"]
            types = [e["type"] for e in history]
            done = answer.json()["status"] == "cancelled" or "ConfirmationSent" in types
            if done and answer.json()["version"] == history[-1]["version"]:
                return dict(answer.json())
        assert time.monotonic() < deadline, f"order {order_id} never settled: {answer.text}"
        time.sleep(0.1)


def stock(api: Client, admin: str, pid: str, **expected: int) -> dict[str, Any]:
    """The stock levels once they show `expected` (the inventory's stream projects on its
    own, a moment after the order's)."""
    deadline = time.monotonic() + 10
    while True:
        levels = dict(api.call("GET", f"/inventory/{pid}", token=admin).json())
        if all(levels[k] == v for k, v in expected.items()):
            return levels
        assert time.monotonic() < deadline, f"stock never reached {expected}: {levels}"
        time.sleep(0.1)


def test_an_order_paid_by_visa_ends_confirmed_with_an_email(
    api: Client, admin: str, stack: LocalStack
) -> None:
    pid = on_sale(api, admin, "Order Book", "20.00", 5)
    other = on_sale(api, admin, "Order Pen", "2.50", 5)
    ada = customer(api, "ada")
    created = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 1}]}, token=ada
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["status"], order["total"]) == ("draft", "20.00")
    oid = order["id"]
    api.call("POST", f"/orders/{oid}/items", {"product_id": pid, "quantity": 1}, token=ada)
    added = api.call(
        "POST", f"/orders/{oid}/items", {"product_id": other, "quantity": 2}, token=ada
    )
    assert added.json()["total"] == "45.00"
    removed = api.call("DELETE", f"/orders/{oid}/items/{other}", token=ada)
    assert removed.json()["total"] == "40.00"
    placed = api.call("POST", f"/orders/{oid}/place", {"payment_method": "pm_card_visa"}, token=ada)
    assert placed.status_code == 202, placed.text
    assert placed.json()["status"] == "placed"
    final = settled(api, ada, oid)
    assert final["status"] == "confirmed"
    stock(api, admin, pid, on_hand=3, reserved=0, available=3)
    assert stack.mailbox is not None
    deadline = time.monotonic() + 5
    while not any(oid in m.subject for m in stack.mailbox.messages):
        assert time.monotonic() < deadline, "no confirmation email"
        time.sleep(0.1)


def test_a_declined_card_cancels_and_puts_the_stock_back(api: Client, admin: str) -> None:
    pid = on_sale(api, admin, "Declined Book", "20.00", 2)
    bob = customer(api, "bob")
    oid = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 2}]}, token=bob
    ).json()["id"]
    api.call(
        "POST", f"/orders/{oid}/place", {"payment_method": "pm_card_chargeDeclined"}, token=bob
    )
    final = settled(api, bob, oid)
    assert (final["status"], final["reason"]) == ("cancelled", "payment_declined")
    stock(api, admin, pid, on_hand=2, reserved=0)


def test_no_stock_cancels_the_order(api: Client, admin: str) -> None:
    pid = on_sale(api, admin, "Scarce Book", "20.00", 1)
    cleo = customer(api, "cleo")
    oid = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 2}]}, token=cleo
    ).json()["id"]
    api.call("POST", f"/orders/{oid}/place", {"payment_method": "pm_card_visa"}, token=cleo)
    final = settled(api, cleo, oid)
    assert (final["status"], final["reason"]) == ("cancelled", "out_of_stock")
    stock(api, admin, pid, available=1, reserved=0)


def test_cancelling_a_confirmed_order_refunds_and_returns_the_stock(
    api: Client, admin: str
) -> None:
    pid = on_sale(api, admin, "Returned Book", "20.00", 3)
    dan = customer(api, "dan")
    oid = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 1}]}, token=dan
    ).json()["id"]
    api.call("POST", f"/orders/{oid}/place", {"payment_method": "pm_card_visa"}, token=dan)
    assert settled(api, dan, oid)["status"] == "confirmed"
    cancelled = api.call("POST", f"/orders/{oid}/cancel", token=dan)
    assert cancelled.status_code == 200, cancelled.text
    deadline = time.monotonic() + 20
    while True:
        types = [
            e["type"] for e in api.call("GET", f"/orders/{oid}/history", token=dan).json()["events"]
        ]
        if "PaymentRefunded" in types:
            break
        assert time.monotonic() < deadline, f"no refund: {types}"
        time.sleep(0.1)
    stock(api, admin, pid, on_hand=3, reserved=0)


def test_another_customers_order_is_invisible(api: Client, admin: str) -> None:
    pid = on_sale(api, admin, "Private Book", "20.00", 1)
    eve, fay = customer(api, "eve"), customer(api, "fay")
    oid = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 1}]}, token=eve
    ).json()["id"]
    assert (
        api.call("GET", f"/orders/{oid}", token=fay, params={"min_version": "1"}).status_code == 404
    )
    assert api.call("POST", f"/orders/{oid}/cancel", token=fay).status_code == 404
    assert (
        api.call("GET", f"/orders/{oid}", token=admin, params={"min_version": "2"}).status_code
        == 200
    )
    mine = api.call("GET", "/orders", token=eve).json()["items"]
    assert [o["id"] for o in mine] == [oid]
    assert api.call("GET", "/orders", token=fay).json()["items"] == []


def test_a_product_in_an_order_cannot_be_deleted(api: Client, admin: str) -> None:
    pid = on_sale(api, admin, "Held Book", "20.00", 1)
    gus = customer(api, "gus")
    order = api.call("POST", "/orders", {"items": [{"product_id": pid, "quantity": 1}]}, token=gus)
    # The check reads the orders-holding view: wait until it shows this order.
    # (Known gap: within the projection lag a delete is not yet refused; see docs.)
    version = str(order.json()["version"])
    assert (
        api.call(
            "GET", f"/orders/{order.json()['id']}", token=gus, params={"min_version": version}
        ).status_code
        == 200
    )
    refused = api.call("DELETE", f"/products/{pid}", token=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "product_in_orders"
    free = on_sale(api, admin, "Free Book", "20.00", 0)
    assert api.call("DELETE", f"/products/{free}", token=admin).status_code == 200
    assert api.call("GET", f"/products/{free}", token=admin).status_code in (404, 200)


def test_two_orders_for_the_last_unit_confirm_exactly_one(api: Client, admin: str) -> None:
    from tests.e2e.test_catalog_journey import race

    pid = on_sale(api, admin, "Last Unit", "20.00", 1)
    buyers = [customer(api, "hal"), customer(api, "ivy")]
    orders = [
        api.call(
            "POST", "/orders", {"items": [{"product_id": pid, "quantity": 1}]}, token=t
        ).json()["id"]
        for t in buyers
    ]

    def place(token: str, oid: str) -> Any:
        return lambda: api.call(
            "POST", f"/orders/{oid}/place", {"payment_method": "pm_card_visa"}, token=token
        )

    assert race(*(place(t, o) for t, o in zip(buyers, orders, strict=True))) == [202, 202]
    outcomes = sorted(settled(api, t, o)["status"] for t, o in zip(buyers, orders, strict=True))
    assert outcomes == ["cancelled", "confirmed"]
    stock(api, admin, pid, on_hand=0, reserved=0, available=0)
