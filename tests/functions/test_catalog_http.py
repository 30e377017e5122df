"""The catalogue routes as the contract states them, through the real handlers on moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.support.http_api import Answer


class Shop:
    """An admin and a customer at the catalogue's door."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.admin = stack.admin_token()
        body = {"email": "cus@example.com", "password": "customer pass"}
        stack.api.request("POST", "/users", json_body=body)
        self.customer = str(
            stack.api.request("POST", "/auth/token", json_body=body).json["access_token"]
        )

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, **kw: Any
    ) -> Answer:
        return self.stack.api.request(method, path, json_body=body, token=token, **kw)

    def category(self, name: str = "Books", **flags: bool) -> str:
        answer = self.call("POST", "/categories", {"name": name, **flags}, self.admin)
        assert answer.status == 201, answer.text
        return str(answer.json["id"])

    def product(
        self,
        category: str,
        name: str = "Clean Code",
        price: str = "30.00",
        description: str = "A book",
    ) -> dict[str, Any]:
        body = {"name": name, "description": description, "price": price, "category_id": category}
        answer = self.call("POST", "/products", body, self.admin)
        assert answer.status == 201, answer.text
        return dict(answer.json)

    def live(
        self, category: str, name: str, price: str = "30.00", description: str = "A book"
    ) -> str:
        created = self.product(category, name, price, description)
        if created["requires_approval"]:
            assert (
                self.call("POST", f"/products/{created['id']}/approve", token=self.admin).status
                == 200
            )
        assert (
            self.call("POST", f"/products/{created['id']}/activate", token=self.admin).status == 200
        )
        return str(created["id"])


@pytest.fixture
def shop(stack: Stack) -> Shop:
    return Shop(stack)


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """?min_version gives up after 50 ms, not 3 s: a 503 comes at once."""
    monkeypatch.setattr("functions.shared.http.WAIT_SECONDS", 0.05)


def test_only_admins_create_categories_and_names_are_unique(shop: Shop) -> None:
    body = {"name": "Books"}
    assert shop.call("POST", "/categories", body).status == 401
    assert shop.call("POST", "/categories", body, shop.customer).status == 403
    created = shop.call("POST", "/categories", body, shop.admin)
    assert created.status == 201
    assert created.headers["etag"] == '"1"'
    again = shop.call("POST", "/categories", {"name": "BOOKS"}, shop.admin)
    assert again.status == 409
    assert again.error_code == "category_name_taken"


def test_a_new_product_answers_the_price_its_rules_gave_and_starts_inactive(shop: Shop) -> None:
    # The price rules themselves are tabled once, where they live (tests/domain/catalog/
    # test_pricing.py); here: the answer carries what the product decided.
    created = shop.product(shop.category("Cat", premium=True), price="1000.00")
    assert created["price"] == "1199.99"
    assert created["is_active"] is False
    assert created["requires_approval"] is True
    assert created["version"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"price": "-1.00"}, 400, "price_not_positive"),
        ({"price": "0"}, 400, "price_not_positive"),
        ({"price": "abc"}, 400, "invalid_request"),
        ({"price": 19.99}, 400, "invalid_request"),
        ({"extra": 1}, 400, "invalid_request"),
        ({"category_id": "nope"}, 422, "unknown_category"),
    ],
)
def test_bad_products_are_refused(shop: Shop, body: dict[str, Any], status: int, code: str) -> None:
    category = shop.category()
    full = {"name": "Widget", "description": "d", "price": "10.00", "category_id": category, **body}
    answer = shop.call("POST", "/products", full, shop.admin)
    assert (answer.status, answer.error_code) == (status, code), answer.text


def test_a_category_that_allows_no_products_refuses_them(shop: Shop) -> None:
    closed = shop.category("Archive", allows_products=False)
    body = {"name": "Old", "description": "", "price": "1.00", "category_id": closed}
    answer = shop.call("POST", "/products", body, shop.admin)
    assert (answer.status, answer.error_code) == (422, "category_closed")


def test_product_names_are_unique(shop: Shop) -> None:
    category = shop.category()
    shop.product(category, "Clean Code")
    body = {"name": "clean code", "description": "", "price": "1.00", "category_id": category}
    assert shop.call("POST", "/products", body, shop.admin).status == 409


def test_approval_gates_activation_and_deactivation_needs_a_reason(shop: Shop) -> None:
    product = shop.product(shop.category(), price="2000.00")
    pid = product["id"]
    refused = shop.call("POST", f"/products/{pid}/activate", token=shop.admin)
    assert (refused.status, refused.error_code) == (422, "approval_pending")
    approved = shop.call("POST", f"/products/{pid}/approve", token=shop.admin)
    assert approved.status == 200
    assert approved.json["requires_approval"] is False
    activated = shop.call("POST", f"/products/{pid}/activate", token=shop.admin)
    assert activated.json["is_active"] is True
    assert activated.headers["etag"] == f'"{activated.json["version"]}"'
    assert shop.call("POST", f"/products/{pid}/activate", token=shop.admin).status == 422
    assert (
        shop.call("POST", f"/products/{pid}/deactivate", {"reason": " "}, shop.admin).status == 400
    )
    assert shop.call("POST", f"/products/{pid}/deactivate", {}, shop.admin).status == 400
    done = shop.call("POST", f"/products/{pid}/deactivate", {"reason": "recall"}, shop.admin)
    assert done.json["is_active"] is False
    again = shop.call("POST", f"/products/{pid}/deactivate", {"reason": "recall"}, shop.admin)
    assert (again.status, again.error_code) == (422, "already_inactive")
    assert shop.call("POST", f"/products/{pid}/activate", token=shop.customer).status == 403
    assert shop.call("POST", "/products/ghost/activate", token=shop.admin).status == 404


def test_price_changes_follow_the_rules_and_if_match(shop: Shop) -> None:
    pid = shop.product(shop.category(), price="80.00")["id"]
    cut = shop.call("PUT", f"/products/{pid}/price", {"price": "39.99"}, shop.admin)
    assert (cut.status, cut.error_code) == (422, "price_cut_too_deep")
    stale = shop.call(
        "PUT", f"/products/{pid}/price", {"price": "90.00"}, shop.admin, headers={"If-Match": '"7"'}
    )
    assert stale.status == 412
    changed = shop.call(
        "PUT",
        f"/products/{pid}/price",
        {"price": "1200.00"},
        shop.admin,
        headers={"If-Match": '"1"'},
    )
    assert changed.status == 200, changed.text
    assert changed.json == {
        "id": pid,
        "version": 2,
        "price": "1199.99",
        "is_active": False,
        "requires_approval": True,
    }


def test_a_product_at_a_version_it_never_reached_is_a_400_naming_the_latest(
    shop: Shop, short_wait: None
) -> None:
    pid = shop.product(shop.category("Books"), "Refactoring", "45.50", "d")["id"]
    behind = shop.call("GET", f"/products/{pid}", token=shop.admin, query={"min_version": "1"})
    assert behind.status == 503  # version 1 exists; the view has not seen it
    shop.stack.project()
    ahead = shop.call("GET", f"/products/{pid}", token=shop.admin, query={"min_version": "7"})
    assert (ahead.status, ahead.error_code) == (400, "min_version_ahead")
    assert "the latest is 1" in ahead.json["error"]["message"]
    ghost = shop.call("GET", "/products/ghost", query={"min_version": "1"})
    assert ghost.status == 404  # no stream at all: as without min_version


def projected_draft(shop: Shop) -> str:
    """A new product (inactive), its view caught up."""
    pid = str(shop.product(shop.category("Books"), "Refactoring", "45.50", "d")["id"])
    shop.stack.project()
    return pid


def test_an_inactive_product_is_a_404_to_the_public_whatever_min_version(
    shop: Shop, short_wait: None
) -> None:
    pid = projected_draft(shop)
    # caught up (1), or past the latest version (2, 99): a 404, never a 503 or a 400
    # naming the latest, which would tell the public the product exists
    for version in ("1", "2", "99"):
        hidden = shop.call("GET", f"/products/{pid}", query={"min_version": version})
        assert (hidden.status, hidden.error_code) == (404, "product_not_found"), version


def test_a_product_just_activated_is_waited_for_not_refused(shop: Shop, short_wait: None) -> None:
    pid = projected_draft(shop)
    activated = shop.call("POST", f"/products/{pid}/activate", token=shop.admin).json
    # the view still shows it inactive: behind, so the public read waits, then a 503
    behind = shop.call("GET", f"/products/{pid}", query={"min_version": str(activated["version"])})
    assert behind.status == 503
    shop.stack.project()
    seen = shop.call("GET", f"/products/{pid}", query={"min_version": str(activated["version"])})
    assert seen.status == 200


def test_a_category_waits_for_min_version_and_names_the_latest_past_it(
    shop: Shop, short_wait: None
) -> None:
    category = shop.category("Books")
    behind = shop.call("GET", f"/categories/{category}", query={"min_version": "1"})
    assert (behind.status, behind.headers["retry-after"]) == (503, "1")
    shop.stack.project()
    seen = shop.call("GET", f"/categories/{category}", query={"min_version": "1"})
    assert (seen.status, seen.json["version"], seen.headers["etag"]) == (200, 1, '"1"')
    ahead = shop.call("GET", f"/categories/{category}", query={"min_version": "2"})
    assert (ahead.status, ahead.error_code) == (400, "min_version_ahead")
    assert "the latest is 1" in ahead.json["error"]["message"]
    ghost = shop.call("GET", "/categories/ghost", query={"min_version": "1"})
    assert ghost.status == 404


def test_public_reads_show_active_products_only_and_admins_see_all(shop: Shop) -> None:
    category = shop.category("Books")
    pid = shop.product(category, "Refactoring", "45.50", "Improving the design")["id"]
    shop.stack.project()
    assert shop.call("GET", f"/products/{pid}").status == 404
    assert shop.call("GET", f"/products/{pid}", token=shop.customer).status == 404
    seen = shop.call("GET", f"/products/{pid}", token=shop.admin)
    assert seen.status == 200
    shop.call("POST", f"/products/{pid}/activate", token=shop.admin)
    shop.stack.project()
    public = shop.call("GET", f"/products/{pid}", query={"min_version": "2"})
    assert public.status == 200, public.text
    view = public.json
    assert view["name"] == "Refactoring"
    assert view["price"] == "45.50"
    assert view["category_id"] == category
    assert view["category_name"] == "Books"
    assert (view["is_active"], view["requires_approval"]) == (True, False)
    assert (view["average_rating"], view["review_count"]) == (None, 0)
    assert view["version"] == 2
    assert view["price_updated_at"] is None
    assert public.headers["etag"] == '"2"'
    assert shop.call("GET", "/products/ghost").status == 404


def test_reviews_feed_the_average_and_a_second_review_replaces_the_first(shop: Shop) -> None:
    pid = shop.live(shop.category(), "Refactoring")
    first = shop.call(
        "POST", f"/products/{pid}/reviews", {"rating": 2, "comment": "meh"}, shop.customer
    )
    assert first.status == 201, first.text
    assert (
        shop.call(
            "POST", f"/products/{pid}/reviews", {"rating": 6, "comment": "c"}, shop.customer
        ).status
        == 400
    )
    assert (
        shop.call(
            "POST", f"/products/{pid}/reviews", {"rating": "5", "comment": "c"}, shop.customer
        ).status
        == 400
    )
    assert (
        shop.call("POST", f"/products/{pid}/reviews", {"rating": 5, "comment": "c"}).status == 401
    )
    shop.call("POST", f"/products/{pid}/reviews", {"rating": 4, "comment": "better"}, shop.customer)
    shop.call("POST", f"/products/{pid}/reviews", {"rating": 5, "comment": "c"}, shop.admin)
    shop.stack.project()
    view = shop.call("GET", f"/products/{pid}").json
    assert (view["review_count"], view["average_rating"]) == (2, 4.5)
    missing = shop.call("POST", f"/products/{pid}/reviews", {"rating": 5}, shop.customer)
    assert (missing.status, missing.error_code) == (400, "invalid_request")  # the comment


def test_an_inactive_product_cannot_be_reviewed(shop: Shop) -> None:
    pid = shop.product(shop.category())["id"]
    answer = shop.call(
        "POST", f"/products/{pid}/reviews", {"rating": 5, "comment": "c"}, shop.customer
    )
    assert answer.status == 404


def test_categories_count_their_active_products(shop: Shop) -> None:
    books = shop.category("Books")
    games = shop.category("Games")
    shop.live(books, "A")
    second = shop.live(books, "B")
    shop.product(books, "C")
    shop.call("POST", f"/products/{second}/deactivate", {"reason": "gone"}, shop.admin)
    shop.stack.project()
    listed = {c["name"]: c["product_count"] for c in shop.call("GET", "/categories").json["items"]}
    assert listed == {"Books": 1, "Games": 0}
    one = shop.call("GET", f"/categories/{games}").json
    assert one["name"] == "Games"
    assert one["product_count"] == 0
    assert shop.call("GET", "/categories/ghost").status == 404


def test_categories_are_listed_by_name_page_by_page(shop: Shop) -> None:
    for name in ("Toys", "Books", "Garden", "Audio", "Kitchen"):
        shop.category(name)
    shop.stack.project()
    names, cursor, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = shop.call("GET", "/categories", query=query)
        assert page.status == 200, page.text
        names += [c["name"] for c in page.json["items"]]
        cursor, pages = page.json["next_cursor"], pages + 1
        if cursor is None:
            break
    assert names == ["Audio", "Books", "Garden", "Kitchen", "Toys"]
    assert pages == 3
    assert shop.call("GET", "/categories", query={"cursor": "forged"}).status == 400
    assert shop.call("GET", "/categories", query={"limit": "0"}).status == 400


def catalogue(shop: Shop) -> dict[str, str]:
    books, tools = shop.category("Books"), shop.category("Tools")
    items = {
        "Clean Code": (books, "24.00", "A handbook of agile software craftsmanship"),
        "Clean Architecture": (books, "30.00", "A craftsman's guide to software structure"),
        "Code Complete": (books, "45.00", "A practical handbook of software construction"),
        "Hammer": (tools, "12.00", "Drives nails; the CLEAN way to build"),
        "Screwdriver": (tools, "8.00", "Turns screws"),
        "Workbench": (tools, "150.00", "Where the craft happens"),
    }
    ids = {name: shop.live(cat, name, price, text) for name, (cat, price, text) in items.items()}
    inactive = shop.product(books, "Clean Secrets", "10.00", "clean but hidden")
    ids["Clean Secrets"] = inactive["id"]
    ids["books"], ids["tools"] = books, tools
    shop.stack.project()
    return ids


def names(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.text
    return [p["name"] for p in answer.json["items"]]


def test_search_matches_substrings_of_name_or_description_case_insensitively(shop: Shop) -> None:
    catalogue(shop)
    assert names(shop.call("GET", "/products", query={"q": "CLEAN"})) == [
        "Clean Architecture",
        "Clean Code",
        "Hammer",
    ]
    assert names(shop.call("GET", "/products", query={"q": "handbook"})) == [
        "Clean Code",
        "Code Complete",
    ]
    assert names(shop.call("GET", "/products", query={"q": "cr"})) == [
        "Clean Architecture",
        "Clean Code",
        "Screwdriver",
        "Workbench",
    ]
    assert names(shop.call("GET", "/products", query={"q": "nothing like it"})) == []


def test_search_combines_category_and_price_range(shop: Shop) -> None:
    ids = catalogue(shop)
    query = {"q": "craft", "category_id": ids["books"], "min_price": "25", "max_price": "30.00"}
    assert names(shop.call("GET", "/products", query=query)) == ["Clean Architecture"]
    tools = {"category_id": ids["tools"], "max_price": "20"}
    assert names(shop.call("GET", "/products", query=tools)) == ["Hammer", "Screwdriver"]
    everything = names(shop.call("GET", "/products"))
    assert everything == sorted(everything, key=str.casefold)
    assert "Clean Secrets" not in everything


def test_search_pages_through_every_match_once(shop: Shop) -> None:
    catalogue(shop)
    seen: list[str] = []
    query: dict[str, str] = {"q": "e", "limit": "2"}
    while True:
        answer = shop.call("GET", "/products", query=query)
        seen += names(answer)
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
        query = {"q": "e", "limit": "2", "cursor": cursor}
    assert seen == names(shop.call("GET", "/products", query={"q": "e", "limit": "100"}))
    assert len(seen) == 6


def test_a_forged_or_foreign_cursor_is_a_400(shop: Shop) -> None:
    catalogue(shop)
    page = shop.call("GET", "/products", query={"q": "clean", "limit": "1"}).json
    assert page["next_cursor"]
    for forged in ["garbage", "eyJwIjogMX0", page["next_cursor"] + "x"]:
        answer = shop.call("GET", "/products", query={"q": "clean", "cursor": forged})
        assert (answer.status, answer.error_code) == (400, "invalid_cursor"), forged
    foreign = shop.call("GET", "/products", query={"q": "handbook", "cursor": page["next_cursor"]})
    assert foreign.status == 400


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "101"}, 400),
        ({"min_price": "cheap"}, 400),
        ({"q": "x" * 101}, 400),
    ],
)
def test_bad_search_parameters_are_400(shop: Shop, query: dict[str, str], status: int) -> None:
    assert shop.call("GET", "/products", query=query).status == status


def test_the_discounted_price_follows_the_seed(shop: Shop) -> None:
    pid = shop.live(shop.category(), "Refactoring", "40.00")
    shop.stack.project()
    answer = shop.call("GET", f"/products/{pid}/discounted-price", query={"percentage": "25"})
    assert answer.status == 200
    assert answer.json["discounted_price"] == "30.00"
    too_much = shop.call("GET", f"/products/{pid}/discounted-price", query={"percentage": "51"})
    assert (too_much.status, too_much.error_code) == (400, "discount_out_of_range")
    for bad in ["51", "-1", "lots"]:
        assert (
            shop.call("GET", f"/products/{pid}/discounted-price", query={"percentage": bad}).status
            == 400
        )


def test_history_and_time_travel_are_for_admins(shop: Shop) -> None:
    pid = shop.product(shop.category(), "Refactoring", "40.00")["id"]
    shop.call("PUT", f"/products/{pid}/price", {"price": "50.00"}, shop.admin)
    shop.call("POST", f"/products/{pid}/activate", token=shop.admin)
    assert shop.call("GET", f"/products/{pid}/history", token=shop.customer).status == 403
    assert shop.call("GET", f"/products/{pid}/history").status == 401
    history = shop.call("GET", f"/products/{pid}/history", token=shop.admin)
    assert history.status == 200
    events = history.json["events"]
    assert [e["type"] for e in events] == [
        "ProductCreated",
        "ProductPriceChanged",
        "ProductActivated",
    ]
    assert [e["version"] for e in events] == [1, 2, 3]
    assert events[1]["data"]["new_price"] == "50.00"
    assert events[0]["metadata"]["user_id"]
    assert events[0]["occurred_at"].endswith("Z")
    first = shop.call("GET", f"/products/{pid}/as-of", token=shop.admin, query={"version": "1"})
    assert first.status == 200
    assert (first.json["price"], first.json["is_active"], first.json["version"]) == (
        "40.00",
        False,
        1,
    )
    at = shop.call(
        "GET", f"/products/{pid}/as-of", token=shop.admin, query={"at": events[2]["occurred_at"]}
    )
    assert (at.json["price"], at.json["is_active"]) == ("50.00", True)
    both = shop.call(
        "GET",
        f"/products/{pid}/as-of",
        token=shop.admin,
        query={"version": "1", "at": events[0]["occurred_at"]},
    )
    assert both.status == 400
    assert shop.call("GET", f"/products/{pid}/as-of", token=shop.admin).status == 400
    assert (
        shop.call(
            "GET", f"/products/{pid}/as-of", token=shop.admin, query={"at": "yesterday"}
        ).status
        == 400
    )
    assert shop.call("GET", "/products/ghost/history", token=shop.admin).status == 404


def test_an_idempotency_key_is_scoped_to_its_path(shop: Shop) -> None:
    category = shop.category()
    first, second = (shop.product(category, name)["id"] for name in ("One", "Two"))
    key = {"Idempotency-Key": "new-price-1"}
    body = {"price": "35.00"}
    changed = shop.call("PUT", f"/products/{first}/price", body, shop.admin, headers=key)
    again = shop.call("PUT", f"/products/{first}/price", body, shop.admin, headers=key)
    assert changed.status == again.status == 200, changed.text
    assert again.json == changed.json
    assert again.headers["etag"] == '"2"'
    other = shop.call("PUT", f"/products/{second}/price", body, shop.admin, headers=key)
    assert other.status == 200, other.text
    assert (other.json["id"], other.json["price"]) == (second, "35.00")
    reused = shop.call(
        "PUT", f"/products/{second}/price", {"price": "36.00"}, shop.admin, headers=key
    )
    assert (reused.status, reused.error_code) == (409, "idempotency_key_reused")


def test_the_document_declares_each_views_etag_and_the_limits_it_enforces(shop: Shop) -> None:
    document = shop.call("GET", "/openapi.json").json
    paths, schemas = document["paths"], document["components"]["schemas"]
    views = ("/products/{id}", "/categories/{id}", "/orders/{id}", "/inventory/{product_id}")
    for path in (*views, "/users/me"):
        get = paths[path]["get"]
        assert "ETag" in get["responses"]["200"]["headers"], path
        assert "min_version" in {p["name"] for p in get["parameters"]}, path
    price = schemas["NewProduct"]["properties"]["price"]
    assert price["pattern"] == r"^-?\d{1,12}(\.\d{1,2})?$"
    (percentage,) = paths["/products/{id}/discounted-price"]["get"]["parameters"][1:]
    assert "0 to 50" in percentage["description"]
