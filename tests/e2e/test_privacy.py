"""A customer's rights over the local stack, each function under its own role: register,
order, review, export everything held about them, erase; then no table holds the address
in any form, a rebuild of every projection restores none of it, and the address registers
again."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from devstack.stack import LocalStack
from domain.identity.credentials import email_key
from tests.e2e.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Client,
    local_stack,
    rebuilt_views,
    settled,
)

pytestmark = pytest.mark.e2e

COMMENT = "The best book on the subject, ada says"


def every_item(stack: LocalStack) -> str:
    client = stack.clients.dynamodb()
    tables = [
        r.physical_name
        for r in stack.deployment.resources.values()
        if r.type == "AWS::DynamoDB::Table"
    ]
    return str([client.scan(TableName=t)["Items"] for t in tables])


def pseudonym_of(stack: LocalStack, email: str) -> str:
    from infra.container import Container

    env = stack.resolved_env("IdentityCommandsFunction", as_function=False)
    with mock.patch.dict(os.environ, env):
        return Container(env).pseudonyms.of(email_key(email))


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """A stack of its own: every table is scanned and every projection rebuilt from the
    whole event table, which the session's stack fills with every other module's data."""
    with local_stack("privacy") as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Client:
    return Client(stack.url)


def test_export_then_erasure_leaves_no_trace_of_the_address(api: Client, stack: LocalStack) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@privacy.example.com"
    password = "correct horse"
    user = api.call("POST", "/users", {"email": email, "password": password}).json()
    token = api.token(email, password)
    admin = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    _, book = api.new_product(admin, f"Privacy {uuid.uuid4().hex[:6]}", "A book", "d", "20.00")
    assert api.call("POST", f"/products/{book}/activate", token=admin).status_code == 200
    stock = api.call("PUT", f"/inventory/{book}", {"on_hand": 3}, token=admin)
    assert stock.status_code == 200, stock.text
    order = api.call(
        "POST", "/orders", {"items": [{"product_id": book, "quantity": 1}]}, token=token
    ).json()
    placed = api.call(
        "POST", f"/orders/{order['id']}/place", {"payment_method": "pm_card_visa"}, token=token
    )
    assert placed.status_code == 202, placed.text
    review = api.call(
        "POST", f"/products/{book}/reviews", {"rating": 5, "comment": COMMENT}, token=token
    )
    assert review.status_code == 201, review.text
    settled(api, f"/orders/{order['id']}", lambda o: o["status"] == "confirmed", token=token)

    def exported(doc: dict[str, Any]) -> bool:
        return bool(doc["reviews"]) and any(e["kind"] == "order_confirmed" for e in doc["emails"])

    held = settled(api, "/users/me/export", exported, token=token)
    assert held["profile"]["email"] == email
    assert [o["id"] for o in held["orders"]] == [order["id"]]
    assert held["reviews"][0]["comment"] == COMMENT
    assert {e["kind"] for e in held["emails"]} >= {"welcome", "order_confirmed"}

    wrong = api.call("DELETE", "/users/me", {"password": "not it at all"}, token=token)
    assert wrong.status_code == 401
    erased = api.call("DELETE", "/users/me", {"password": password}, token=token)
    assert erased.status_code == 204, erased.text
    assert api.call("GET", "/users/me", token=token).status_code == 401
    assert (
        api.call("POST", "/auth/token", {"email": email, "password": password}).status_code == 401
    )
    settled(api, f"/products/{book}", lambda p: p["review_count"] == 1)  # the rating stays
    kept = api.call("GET", f"/orders/{order['id']}", token=admin)
    assert kept.status_code == 200  # the order stays for the books
    assert kept.json()["customer_id"] == user["id"]

    pseudonym = pseudonym_of(stack, email)

    def traces(text: str) -> list[str]:
        return [t for t in (email, email.split("@")[0], pseudonym, COMMENT) if t in text]

    for _ in range(100):  # the profile view goes once the projector applies the erasure
        if not traces(every_item(stack)):
            break
        time.sleep(0.2)
    assert traces(every_item(stack)) == []
    _, rebuilt = rebuilt_views(stack)
    assert traces(str(rebuilt)) == []
    again = api.call("POST", "/users", {"email": email, "password": "a new life"})
    assert again.status_code == 201, again.text
