"""The catalogue over HTTP against the local stack, concurrency included: the stack runs
several workers per function, so simultaneous requests really race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client

pytestmark = pytest.mark.e2e


def race(*calls: Callable[[], requests.Response]) -> list[int]:
    """Start every call at the same moment; their status codes, sorted."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []

    def run(call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        statuses.append(call().status_code)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.fixture(scope="module")
def admin(api: Client) -> str:
    return api.token(ADMIN_EMAIL, ADMIN_PASSWORD)


def test_the_catalogue_journey(api: Client, admin: str) -> None:
    category = api.call("POST", "/categories", {"name": "E2E Books"}, token=admin).json()["id"]
    body = {
        "name": "E2E Refactoring",
        "description": "Improving the design of code",
        "price": "1500.00",
        "category_id": category,
    }
    created = api.call("POST", "/products", body, token=admin)
    assert created.status_code == 201, created.text
    product: dict[str, Any] = created.json()
    assert (product["price"], product["requires_approval"], product["is_active"]) == (
        "1499.99",
        True,
        False,
    )
    pid = product["id"]
    assert api.call("POST", f"/products/{pid}/activate", token=admin).status_code == 422
    assert api.call("POST", f"/products/{pid}/approve", token=admin).status_code == 200
    assert api.call("POST", f"/products/{pid}/activate", token=admin).status_code == 200
    changed = api.call("PUT", f"/products/{pid}/price", {"price": "900.00"}, token=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["price"] == "899.99"

    api.call("POST", "/users", {"email": "reader@e2e.example.com", "password": "reader pass"})
    reader = api.token("reader@e2e.example.com", "reader pass")
    assert (
        api.call(
            "POST", f"/products/{pid}/reviews", {"rating": 5, "comment": "great"}, token=reader
        ).status_code
        == 201
    )

    view = api.call(
        "GET", f"/products/{pid}", params={"min_version": str(changed.json()["version"])}
    )
    assert view.status_code == 200, view.text
    assert view.json()["price"] == "899.99"
    assert view.json()["category_name"] == "E2E Books"

    found = api.call(
        "GET", "/products", params={"q": "DESIGN OF", "category_id": category, "max_price": "1000"}
    )
    assert [p["id"] for p in found.json()["items"]] == [pid]

    for name in ("E2E Design Patterns", "E2E Designing Data"):
        more = {"name": name, "description": "design", "price": "40.00", "category_id": category}
        extra = api.call("POST", "/products", more, token=admin).json()["id"]
        api.call("POST", f"/products/{extra}/activate", token=admin)
        api.call("GET", f"/products/{extra}", params={"min_version": "2"})
    paged: list[str] = []
    query = {"q": "design", "category_id": category, "min_price": "10", "limit": "1"}
    while True:
        page = api.call("GET", "/products", params=query).json()
        paged += [p["name"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        query["cursor"] = page["next_cursor"]
    assert paged == ["E2E Design Patterns", "E2E Designing Data", "E2E Refactoring"]
    history = api.call("GET", f"/products/{pid}/history", token=admin).json()["events"]
    assert [e["type"] for e in history][:2] == ["ProductCreated", "ProductApproved"]
    past = api.call("GET", f"/products/{pid}/as-of", token=admin, params={"version": "1"}).json()
    assert past["price"] == "1499.99"


def test_two_admins_changing_one_price_with_the_same_if_match(api: Client, admin: str) -> None:
    category = api.call("POST", "/categories", {"name": "E2E Race"}, token=admin).json()["id"]
    body = {"name": "E2E Contended", "description": "", "price": "50.00", "category_id": category}
    pid = api.call("POST", "/products", body, token=admin).json()["id"]
    second_admin = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)

    def change(token: str, price: str) -> Callable[[], requests.Response]:
        return lambda: api.call(
            "PUT",
            f"/products/{pid}/price",
            {"price": price},
            token=token,
            headers={"If-Match": '"1"'},
        )

    assert race(change(admin, "60.00"), change(second_admin, "70.00")) == [200, 412]


def test_two_creations_of_one_name_at_once(api: Client, admin: str) -> None:
    category = api.call("POST", "/categories", {"name": "E2E Twins"}, token=admin).json()["id"]

    def create(description: str) -> Callable[[], requests.Response]:
        body = {
            "name": "E2E Twin",
            "description": description,
            "price": "5.00",
            "category_id": category,
        }
        return lambda: api.call("POST", "/products", body, token=admin)

    assert race(create("one"), create("two")) == [201, 409]


WRITERS, CHANGES = 8, 10


def burst(api: Client, admin: str, pid: str, headers: dict[str, str] | None = None) -> list[Any]:
    """WRITERS threads, each changing the price CHANGES times at once; every answer."""
    barrier = threading.Barrier(WRITERS)
    answers: list[Any] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        session = Client(api.url)
        barrier.wait()
        for i in range(CHANGES):
            price = f"20.{n * CHANGES + i + 1:02d}"  # each command a new price: one event each
            answer = session.call(
                "PUT", f"/products/{pid}/price", {"price": price}, token=admin, headers=headers
            )
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_contending_writers_are_serialized_each_decided_once(api: Client, admin: str) -> None:
    category = api.call("POST", "/categories", {"name": "E2E Contention"}, token=admin).json()
    body = {"name": "E2E Burst", "description": "d", "price": "20.00"}
    created = api.call("POST", "/products", {**body, "category_id": category["id"]}, token=admin)
    assert created.status_code == 201, created.text
    pid, start = created.json()["id"], created.json()["version"]

    answers = burst(api, admin, pid)

    assert sorted({a.status_code for a in answers}) == [200], [a.text for a in answers][:3]
    versions = sorted(a.json()["version"] for a in answers)
    assert versions == list(range(start + 1, start + 1 + WRITERS * CHANGES))
    history = api.call("GET", f"/products/{pid}/history", token=admin).json()["events"]
    assert len(history) == start + WRITERS * CHANGES


def test_contending_writers_naming_one_version_leave_one_winner(api: Client, admin: str) -> None:
    category = api.call("POST", "/categories", {"name": "E2E If-Match"}, token=admin).json()
    body = {"name": "E2E Matched", "description": "d", "price": "20.00"}
    created = api.call("POST", "/products", {**body, "category_id": category["id"]}, token=admin)
    pid, version = created.json()["id"], created.json()["version"]

    statuses = race(
        *[
            lambda: api.call(
                "PUT",
                f"/products/{pid}/price",
                {"price": "21.00"},
                token=admin,
                headers={"If-Match": f'"{version}"'},
            )
        ]
        * WRITERS
    )

    assert statuses == [200] + [412] * (WRITERS - 1)
