"""The catalogue's read model fed real stream records (moto) through the projector function.

A rich history is made through the HTTP routes (two categories, six products activated,
deactivated and reactivated, repriced, approved, reviewed by several customers, one review
replaced), then its stream records are delivered in order, twice, shuffled with duplicates,
with a record withheld, and with a poison record. Every view item (product details,
ratings, category documents and counts, listing and trigram entries, positions) must equal
a rebuild from the event table, and the counts and averages the API answers must equal what
the history implies."""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.support.http_api import Answer
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import batch, sequence_number, stream_records
from tests.support.views import items_of, rebuilt

Item = dict[str, Any]
Views = dict[tuple[str, str], Item]

CATALOGUE_KINDS = (
    "product details",
    "ratings",
    "category documents",
    "category counts",
    "listing entries",
    "trigram entries",
    "positions",
)


# -- the history -------------------------------------------------------------------------


@dataclass
class History:
    """What the commands answered, from which the views' expected contents follow."""

    admin: str = ""
    """The admin's token (signing in again would append an event the tests do not deliver)."""
    categories: dict[str, str] = field(default_factory=dict)  # name -> id
    products: dict[str, str] = field(default_factory=dict)  # name -> id
    category_of: dict[str, str] = field(default_factory=dict)  # product id -> category id
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> name, description
    active: dict[str, bool] = field(default_factory=dict)  # product id -> last answer
    price: dict[str, str] = field(default_factory=dict)  # product id -> last answer
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)  # product -> customer -> r
    records: list[Item] = field(default_factory=list)

    def active_count(self, category_id: str) -> int:
        return sum(1 for p, c in self.category_of.items() if c == category_id and self.active[p])

    def expected_rating(self, product_id: str) -> tuple[Decimal | None, int]:
        ratings = list(self.ratings.get(product_id, {}).values())
        if not ratings:
            return None, 0
        average = (Decimal(sum(ratings)) / len(ratings)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        return average, len(ratings)

    def stream_of(self, product: str) -> str:
        return f"product-{self.products[product]}"


class Catalogue:
    """Drives the catalogue through its HTTP routes, recording what the answers say."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.admin = stack.admin_token()
        self.history = History(admin=self.admin)
        self.customers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Answer:
        return self.stack.api.request(method, path, json_body=body, token=token)

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Item:
        answer = self.call(method, path, body, token or self.admin)
        assert answer.status in (200, 201), f"{method} {path}: {answer.text}"
        return dict(answer.json)

    def customer(self, name: str) -> str:
        body = {"email": f"{name}@example.com", "password": f"{name} password 1"}
        assert self.call("POST", "/users", body).status == 201
        token = self.ok("POST", "/auth/token", body)["access_token"]
        self.customers[name] = str(token)
        return str(token)

    def category(self, name: str, *, premium: bool = False) -> str:
        body = {"name": name, "allows_products": True, "premium": premium}
        category_id = str(self.ok("POST", "/categories", body)["id"])
        self.history.categories[name] = category_id
        return category_id

    def product(self, category: str, name: str, price: str, description: str) -> str:
        body = {
            "name": name,
            "description": description,
            "price": price,
            "category_id": self.history.categories[category],
        }
        answer = self.ok("POST", "/products", body)
        product_id = str(answer["id"])
        self.history.products[name] = product_id
        self.history.category_of[product_id] = self.history.categories[category]
        self.history.texts[product_id] = (name, description)
        self._note(product_id, answer)
        return product_id

    def act(self, name: str, action: str, body: Any = None) -> None:
        product_id = self.history.products[name]
        self._note(product_id, self.ok("POST", f"/products/{product_id}/{action}", body))

    def reprice(self, name: str, price: str) -> None:
        product_id = self.history.products[name]
        self._note(product_id, self.ok("PUT", f"/products/{product_id}/price", {"price": price}))

    def review(self, customer: str, name: str, rating: int, comment: str = "") -> None:
        product_id = self.history.products[name]
        body = {"rating": rating, "comment": comment}
        self.ok("POST", f"/products/{product_id}/reviews", body, self.customers[customer])
        self.history.ratings.setdefault(product_id, {})[customer] = rating

    def _note(self, product_id: str, answer: Item) -> None:
        self.history.active[product_id] = bool(answer["is_active"])
        self.history.price[product_id] = str(answer["price"])


def make_history(stack: Stack) -> History:
    """Two categories, six products in every state, five reviews (one replaced)."""
    shop = Catalogue(stack)
    for name in ("ada", "bob", "cy"):
        shop.customer(name)
    shop.category("Books")
    shop.category("Gadgets", premium=True)

    shop.product("Books", "Clean Code", "30.00", "Craftsmanship for agile software teams")
    shop.product("Books", "Refactoring", "45.50", "Improving the design of existing code")
    shop.product("Books", "Dune", "9.99", "Spice desert planet saga")  # never activated
    shop.product("Gadgets", "Headphones", "100.00", "Wireless noise cancelling")
    shop.product("Gadgets", "Telescope", "1500.00", "Reflector for deep sky viewing")
    shop.product("Gadgets", "Kettle", "20.00", "Quick boil stainless steel")

    for name in ("Clean Code", "Refactoring", "Headphones", "Kettle"):
        shop.act(name, "activate")
    shop.act("Telescope", "approve")
    shop.act("Telescope", "activate")

    shop.review("ada", "Clean Code", 4, "solid")
    shop.review("bob", "Clean Code", 2, "preachy")
    shop.reprice("Clean Code", "35.00")
    shop.act("Clean Code", "deactivate", {"reason": "new edition"})
    shop.act("Clean Code", "activate")
    shop.review("ada", "Clean Code", 5, "the new edition is better")  # replaces her 4
    shop.review("cy", "Refactoring", 3)
    shop.review("bob", "Kettle", 5, "fast")
    shop.review("cy", "Headphones", 1, "broke")
    shop.act("Headphones", "deactivate", {"reason": "recall"})
    shop.reprice("Telescope", "1400.00")
    shop.reprice("Kettle", "24.00")

    history = shop.history
    assert history.active == {
        history.products["Clean Code"]: True,
        history.products["Refactoring"]: True,
        history.products["Dune"]: False,
        history.products["Headphones"]: False,
        history.products["Telescope"]: True,
        history.products["Kettle"]: True,
    }
    history.records = stream_records(stack.client, stack.tables["EventsTable"])
    return history


@pytest.fixture
def history(stack: Stack) -> History:
    return make_history(stack)


# -- delivering and comparing ------------------------------------------------------------


def deliver(records: list[Item]) -> list[str]:
    """One Lambda batch through the real projector handler; the failed sequence numbers."""
    from functions.projectors.app import handler

    result = handler(batch(records), FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def view_items(stack: Stack, table: str | None = None) -> Views:
    """Every item of a views table, by key."""
    return items_of(stack.client, table or stack.tables["ViewsTable"])


def rebuilt_views(stack: Stack) -> Views:
    """The views rebuilt from the event table into a fresh table of the same shape."""
    return rebuilt(stack.client, stack.tables["ViewsTable"])


def kind(key: tuple[str, str]) -> str:
    pk, sk = key
    if pk.startswith("product#"):
        return {"detail": "product details", "rating": "ratings"}[sk]
    if pk.startswith("category#"):
        return {"detail": "category documents", "count": "category counts"}[sk]
    if pk.startswith("search#tri#"):
        return "trigram entries"
    if pk.startswith("search#"):
        return "listing entries"
    if pk.startswith("position#"):
        return "positions"
    return "other views"


def by_kind(views: Views) -> dict[str, Views]:
    grouped: dict[str, Views] = defaultdict(dict)
    for key, item in views.items():
        grouped[kind(key)][key] = item
    return grouped


def assert_equal_to_a_rebuild(stack: Stack) -> None:
    """Every view item equals the rebuild's, kind by kind (so a failure names its kind)."""
    actual, expected = by_kind(view_items(stack)), by_kind(rebuilt_views(stack))
    for name in CATALOGUE_KINDS:
        assert expected[name], f"the rebuild has no {name}: the history does not cover them"
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], name


def assert_counts_and_ratings_as_the_history_implies(stack: Stack, history: History) -> None:
    """GET /categories/{id} and GET /products/{id} answer what the commands imply."""
    for name, category_id in history.categories.items():
        answer = stack.api.request("GET", f"/categories/{category_id}")
        assert answer.status == 200, answer.text
        assert answer.json["product_count"] == history.active_count(category_id), name
        listed = stack.api.request("GET", "/products", query={"category_id": category_id})
        assert len(listed.json["items"]) == history.active_count(category_id), name
    for name, product_id in history.products.items():
        answer = stack.api.request("GET", f"/products/{product_id}", token=history.admin)
        assert answer.status == 200, answer.text
        view = answer.json
        average, count = history.expected_rating(product_id)
        got = None if view["average_rating"] is None else Decimal(str(view["average_rating"]))
        assert (got, view["review_count"]) == (average, count), name
        assert (view["is_active"], view["price"]) == (
            history.active[product_id],
            history.price[product_id],
        ), name


def expected_index(history: History) -> dict[tuple[str, str], int | None]:
    """The search entries the history implies: for each active product only, its listing
    entries (with its price in cents) and one entry per distinct trigram of its casefolded
    name and description; key -> price in cents (None for a trigram entry)."""
    entries: dict[tuple[str, str], int | None] = {}
    for product_id, (name, description) in history.texts.items():
        if not history.active[product_id]:
            continue
        sort = f"{name.casefold()}#{product_id}"
        cents = int(Decimal(history.price[product_id]) * 100)
        entries[("search#all", sort)] = cents
        entries[(f"search#category#{history.category_of[product_id]}", sort)] = cents
        for text in (name.casefold(), description.casefold()):
            for i in range(len(text) - 2):
                entries[(f"search#tri#{text[i : i + 3]}", sort)] = None
    return entries


def assert_search_index_as_the_history_implies(stack: Stack, history: History) -> None:
    """No entry of an inactive product is left behind, none of an active one is missing."""
    index = {
        key: int(item["price_cents"]["N"]) if "price_cents" in item else None
        for key, item in view_items(stack).items()
        if key[0].startswith("search#")
    }
    assert index == expected_index(history)


def assert_views_are_right(stack: Stack, history: History) -> None:
    assert_equal_to_a_rebuild(stack)
    assert_search_index_as_the_history_implies(stack, history)
    assert_counts_and_ratings_as_the_history_implies(stack, history)


def stream_of(record: Item) -> str:
    return str(record["dynamodb"]["NewImage"]["stream_id"]["S"])


def version_of(record: Item) -> int:
    return int(record["dynamodb"]["NewImage"]["version"]["N"])


def positions(stack: Stack) -> dict[str, int]:
    return {
        pk.removeprefix("position#"): int(item["version"]["N"])
        for (pk, _), item in view_items(stack).items()
        if pk.startswith("position#")
    }


def last_versions(records: list[Item]) -> dict[str, int]:
    last: dict[str, int] = {}
    for record in records:
        last[stream_of(record)] = max(last.get(stream_of(record), 0), version_of(record))
    return last


# -- the specifications ------------------------------------------------------------------


def test_the_history_covers_every_catalogue_stream_and_event(history: History) -> None:
    types = {r["dynamodb"]["NewImage"]["type"]["S"] for r in history.records}
    assert {
        "CategoryCreated",
        "ProductCreated",
        "ProductApproved",
        "ProductActivated",
        "ProductDeactivated",
        "ProductPriceChanged",
        "ReviewPosted",
    } <= types
    streams = {stream_of(r).split("-")[0] for r in history.records}
    assert {"category", "product", "review"} <= streams


def test_in_order_delivery_equals_a_rebuild_in_every_view_item(
    stack: Stack, history: History
) -> None:
    assert deliver(history.records) == []
    assert positions(stack) == last_versions(history.records)
    assert_views_are_right(stack, history)


def test_counts_and_averages_answer_what_the_commands_imply(stack: Stack, history: History) -> None:
    assert stack.project() == {"batchItemFailures": []}
    books, gadgets = history.categories["Books"], history.categories["Gadgets"]
    assert (history.active_count(books), history.active_count(gadgets)) == (2, 2)
    clean_code = history.products["Clean Code"]
    # ada's 4 was replaced by her 5: counted once, with the new rating.
    assert history.expected_rating(clean_code) == (Decimal("3.50"), 2)
    assert_counts_and_ratings_as_the_history_implies(stack, history)


def test_a_redelivered_batch_changes_nothing(stack: Stack, history: History) -> None:
    assert deliver(history.records) == []
    before = view_items(stack)
    assert deliver(history.records) == []
    assert view_items(stack) == before
    assert deliver(list(reversed(history.records))) == []
    assert view_items(stack) == before


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_shuffled_batches_with_duplicates_equal_a_rebuild_and_keep_counts_exact(
    stack: Stack, history: History, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    records = history.records
    shuffled = records + rng.sample(records, k=len(records) // 2)
    rng.shuffle(shuffled)
    third = len(shuffled) // 3
    for part in (shuffled[:third], shuffled[third : 2 * third], shuffled[2 * third :]):
        assert deliver(part) == []
    assert positions(stack) == last_versions(records)
    assert_views_are_right(stack, history)


def test_a_withheld_product_record_is_filled_from_the_event_table(
    stack: Stack, history: History
) -> None:
    clean_code = history.stream_of("Clean Code")
    # The price change (version 3): the deactivation after it must see the new price.
    withheld = next(r for r in history.records if stream_of(r) == clean_code and version_of(r) == 3)
    rest = [r for r in history.records if r is not withheld]
    assert deliver(rest) == []
    assert positions(stack)[clean_code] == last_versions(history.records)[clean_code]
    view = stack.api.request("GET", f"/products/{history.products['Clean Code']}").json
    assert view["price"] == "35.00"
    assert_views_are_right(stack, history)
    before = view_items(stack)
    assert deliver([withheld]) == []  # arrives late: a duplicate
    assert view_items(stack) == before


def test_a_poison_product_record_fails_with_the_later_records_of_its_stream_only(
    stack: Stack, history: History
) -> None:
    records = history.records
    clean_code = history.stream_of("Clean Code")
    victim = next(
        i for i, r in enumerate(records) if stream_of(r) == clean_code and version_of(r) == 2
    )
    poisoned = copy.deepcopy(records)
    poisoned[victim]["dynamodb"]["NewImage"]["data"] = {"S": "{not json"}

    failures = deliver(poisoned)

    assert failures == [
        sequence_number(r)
        for i, r in enumerate(records)
        if stream_of(r) == clean_code and i >= victim
    ]
    expected = last_versions(records) | {clean_code: 1}
    assert positions(stack) == expected  # every other stream, reviews of it included, went on
    stuck = stack.api.request(
        "GET", f"/products/{history.products['Clean Code']}", token=history.admin
    ).json
    assert (stuck["version"], stuck["is_active"]) == (1, False)
    assert (stuck["review_count"], stuck["average_rating"]) == (2, 3.5)
    # Lambda retries from the first failure, with the real records: everything catches up.
    assert deliver(records[victim:]) == []
    assert positions(stack) == last_versions(records)
    assert_views_are_right(stack, history)
