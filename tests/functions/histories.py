"""Two rich histories of the shop, made through the HTTP routes (and the order process's
handler), for the projection battery (test_projections.py) and the tests particular to
each context: what the commands answered, from which the views' contents follow.

- The catalogue's: two categories, six products activated, deactivated and reactivated,
  repriced, approved, reviewed by several customers, one review replaced.
- Ordering's: orders confirmed, declined, short of stock, cancelled after confirmation
  (refunded, units returned), drafts whose items were added and removed, a draft
  cancelled, an order reserved but not yet charged, one placed and never processed, stock
  counted and recounted; reviews (one replaced), for the product stats.

Each is made once per module; each test then projects its stream records into a fresh,
empty views table that the functions read (`Fresh`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import pytest

from domain.ordering.inventory import Inventory, Stock, bucket_ids
from domain.ordering.order import CancelReason, Order
from domain.ordering.views import OrderingViews, inventory_key
from event_sourcing.dynamodb.views import DynamoDBViewStore
from event_sourcing.generations import Pointer
from infra import container as composition
from tests.functions.conftest import Stack, open_stack
from tests.support.http_api import Answer
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import batch, stream_records
from tests.support.views import items_of, rebuilt, table_like

Item = dict[str, Any]
Views = dict[tuple[str, str], Item]

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"


# -- records and views -------------------------------------------------------------------


def deliver(records: list[Item]) -> list[str]:
    """One Lambda batch through the real projector handler; the failed sequence numbers."""
    from functions.projectors.app import handler

    result = handler(batch(records), FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def stream_of(record: Item) -> str:
    return str(record["dynamodb"]["NewImage"]["stream_id"]["S"])


def version_of(record: Item) -> int:
    return int(record["dynamodb"]["NewImage"]["version"]["N"])


def type_of(record: Item) -> str:
    return str(record["dynamodb"]["NewImage"]["type"]["S"])


def last_versions(records: list[Item]) -> dict[str, int]:
    last: dict[str, int] = {}
    for record in records:
        last[stream_of(record)] = max(last.get(stream_of(record), 0), version_of(record))
    return last


def kind(key: tuple[str, str]) -> str:
    """What a view item is, for every view of the shop (so a difference names its kind)."""
    pk, sk = key
    if pk.startswith("product#") and pk.endswith("#orders"):
        return "holders"
    if pk.startswith("product#"):
        kinds = {"detail": "product details", "rating": "ratings", "stats": "product stats"}
        return kinds.get(sk, "other views")
    if pk.startswith("category#"):
        return {"detail": "category documents", "count": "category counts"}.get(sk, "other views")
    if pk.startswith("search#tri#"):
        return "trigram entries"
    if pk.startswith("search#"):
        return "listing entries"
    if pk.startswith("order#") and sk == "detail":
        return "order details"
    if pk.startswith("order#") and sk == "stats":
        return "orders of the product stats"
    if pk == "orders#all" or pk.startswith("orders#all#shard"):
        return "order listing"
    if pk.startswith("inventory#") and sk == "levels":
        return "inventory levels"
    if pk.startswith("customer#") and pk.endswith("#reviews"):
        return "reviews of a customer"
    if pk.startswith("user#") and sk == "profile":
        return "user profiles"
    if pk.startswith("position#"):
        return "positions"
    return "other views"


def by_kind(views: Views) -> dict[str, Views]:
    grouped: dict[str, Views] = defaultdict(dict)
    for key, item in views.items():
        grouped[kind(key)][key] = item
    return grouped


# -- a history, and a fresh views table to project it into ---------------------------------


@dataclass
class History:
    """What a history's commands answered; its stream records; its views, rebuilt."""

    admin: str = ""
    """The admin's token (signing in again would append an event no test delivers)."""
    records: list[Item] = field(default_factory=list)
    rebuilt: Views = field(default_factory=dict)
    """The views rebuilt from the event table (which no test changes), once."""

    kinds: ClassVar[tuple[str, ...]] = ()
    """The kinds of view item the history must produce."""

    def withheld(self) -> list[Item]:
        """The records a gap test withholds: later events of their streams build on them."""
        raise NotImplementedError

    def poisoned(self) -> int:
        """The index of the record a poison test corrupts (not its stream's last)."""
        raise NotImplementedError

    def implied(self, fresh: Fresh) -> None:
        """Assert that the views answer, over HTTP, what the commands imply."""
        raise NotImplementedError


@dataclass
class World:
    stack: Stack
    history: History


@dataclass
class Fresh:
    """A history, with an empty views table that the functions use."""

    stack: Stack
    history: History
    table: str

    def views(self) -> Views:
        return items_of(self.stack.client, self.table)

    def positions(self) -> dict[str, int]:
        """Each stream's position: the lowest of the projections that follow it."""
        lowest: dict[str, int] = {}
        for (pk, _), item in self.views().items():
            if pk.startswith("position#"):
                stream, version = pk.removeprefix("position#"), int(item["version"]["N"])
                lowest[stream] = min(lowest.get(stream, version), version)
        return lowest

    def get(self, path: str, **query: str) -> Item:
        answer = self.stack.api.request("GET", path, token=self.history.admin, query=query or None)
        assert answer.status == 200, f"{path}: {answer.text}"
        return dict(answer.json)


def world_of(make: Callable[[Stack], History]) -> Iterator[World]:
    """One moto world and one history (a module-scoped fixture's body)."""
    with pytest.MonkeyPatch.context() as patch, open_stack(patch) as stack:
        history = make(stack)
        history.records = stream_records(stack.client, stack.tables["EventsTable"])
        history.rebuilt = rebuilt(stack.client, stack.tables["ViewsTable"])
        yield World(stack, history)


def fresh_views(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fresh]:
    """The world's functions on an empty views table (a fixture's body)."""
    table = table_like(world.stack.client, world.stack.tables["ViewsTable"])
    original = world.stack.tables["ViewsTable"]
    monkeypatch.setenv("VIEWS_TABLE", table)
    world.stack.use_table("ViewsTable", table)
    composition.use(None)
    yield Fresh(world.stack, world.history, table)
    world.stack.use_table("ViewsTable", original)
    composition.use(None)


def assert_equal_to_a_rebuild(fresh: Fresh) -> None:
    """Every view item equals the rebuild's, kind by kind (so a failure names its kind)."""
    actual, expected = by_kind(fresh.views()), by_kind(fresh.history.rebuilt)
    for name in fresh.history.kinds:
        assert expected[name], f"the rebuild has no {name}: the history does not cover them"
    assert not expected.get("other views"), "a view item of no known kind: name it in kind()"
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], name


def assert_views_are_right(fresh: Fresh) -> None:
    assert_equal_to_a_rebuild(fresh)
    fresh.history.implied(fresh)


# -- the catalogue's history ---------------------------------------------------------------


@dataclass
class CatalogueHistory(History):
    categories: dict[str, str] = field(default_factory=dict)  # name -> id
    products: dict[str, str] = field(default_factory=dict)  # name -> id
    category_of: dict[str, str] = field(default_factory=dict)  # product id -> category id
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> name, description
    active: dict[str, bool] = field(default_factory=dict)  # product id -> last answer
    price: dict[str, str] = field(default_factory=dict)  # product id -> last answer
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)  # product -> customer -> r

    kinds = (
        "product details",
        "ratings",
        "reviews of a customer",
        "category documents",
        "category counts",
        "listing entries",
        "trigram entries",
        "user profiles",
        "positions",
    )

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

    def withheld(self) -> list[Item]:
        # Clean Code's price change (version 3): the deactivation after it must see the price.
        clean_code = self.stream_of("Clean Code")
        return [r for r in self.records if stream_of(r) == clean_code and version_of(r) == 3]

    def poisoned(self) -> int:
        # Clean Code's version 2, while reviews of it (other streams) go on.
        clean_code = self.stream_of("Clean Code")
        return next(
            i
            for i, r in enumerate(self.records)
            if stream_of(r) == clean_code and version_of(r) == 2
        )

    def implied(self, fresh: Fresh) -> None:
        self.assert_search_index(fresh)
        self.assert_counts_and_ratings(fresh)

    def assert_counts_and_ratings(self, fresh: Fresh) -> None:
        """GET /categories/{id} and GET /products/{id} answer what the commands imply."""
        for name, category_id in self.categories.items():
            assert fresh.get(f"/categories/{category_id}")["product_count"] == (
                self.active_count(category_id)
            ), name
            listed = fresh.get("/products", category_id=category_id)
            assert len(listed["items"]) == self.active_count(category_id), name
        for name, product_id in self.products.items():
            view = fresh.get(f"/products/{product_id}")
            average, count = self.expected_rating(product_id)
            got = None if view["average_rating"] is None else Decimal(str(view["average_rating"]))
            assert (got, view["review_count"]) == (average, count), name
            assert (view["is_active"], view["price"]) == (
                self.active[product_id],
                self.price[product_id],
            ), name

    def expected_index(self) -> dict[tuple[str, str], int | None]:
        """The search entries the history implies: for each active product only, its
        listing entries (with its price in cents) and one entry per distinct trigram of its
        casefolded name and description; key -> price in cents (None for a trigram)."""
        entries: dict[tuple[str, str], int | None] = {}
        for product_id, (name, description) in self.texts.items():
            if not self.active[product_id]:
                continue
            sort = f"{name.casefold()}#{product_id}"
            cents = int(Decimal(self.price[product_id]) * 100)
            entries[("search#all", sort)] = cents
            entries[(f"search#category#{self.category_of[product_id]}", sort)] = cents
            for text in (name.casefold(), description.casefold()):
                for i in range(len(text) - 2):
                    entries[(f"search#tri#{text[i : i + 3]}", sort)] = None
        return entries

    def assert_search_index(self, fresh: Fresh) -> None:
        """No entry of an inactive product is left behind, none of an active one is missing."""
        index = {
            key: int(item["price_cents"]["N"]) if "price_cents" in item else None
            for key, item in fresh.views().items()
            # the trigram counters are estimates that choose a collection, not entries
            if key[0].startswith("search#") and not key[0].startswith("search#count#")
        }
        assert index == self.expected_index()


class Catalogue:
    """Drives the catalogue through its HTTP routes, recording what the answers say."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.admin = stack.admin_token()
        self.history = CatalogueHistory(admin=self.admin)
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


def catalogue_history(stack: Stack) -> CatalogueHistory:
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
    return shop.history


# -- ordering's history --------------------------------------------------------------------


@dataclass
class OrderingHistory(History):
    tokens: dict[str, str] = field(default_factory=dict)  # customer -> token
    users: dict[str, str] = field(default_factory=dict)  # customer -> user id
    products: dict[str, str] = field(default_factory=dict)  # name -> id
    orders: dict[str, str] = field(default_factory=dict)  # label -> order id
    owner: dict[str, str] = field(default_factory=dict)  # label -> customer
    outcome: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # status, reason
    lines: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> product -> qty
    prices: dict[str, str] = field(default_factory=dict)  # product -> price
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)  # product -> customer -> r

    kinds = (
        "order details",
        "order listing",
        "inventory levels",
        "holders",
        "product stats",
        "orders of the product stats",
        "user profiles",
        "positions",
    )

    def labels_of(self, customer: str) -> list[str]:
        """The customer's orders, oldest first."""
        return [label for label in self.orders if self.owner[label] == customer]

    def holders(self) -> dict[str, set[str]]:
        """product id -> the orders (not cancelled) holding it."""
        held: dict[str, set[str]] = defaultdict(set)
        for label, (status, _) in self.outcome.items():
            if status != "cancelled":
                for product in self.lines[label]:
                    held[self.products[product]].add(self.orders[label])
        return dict(held)

    def withheld(self) -> list[Item]:
        # The confirmation of the order later cancelled (its units then go back), and the
        # book's first count (every later level builds on it).
        returned = f"order-{self.orders['returned']}"
        book = f"inventory-{self.products['Book']}"
        confirmation = next(
            r for r in self.records if stream_of(r) == returned and type_of(r) == "OrderConfirmed"
        )
        count = next(r for r in self.records if stream_of(r) == book and version_of(r) == 1)
        return [confirmation, count]

    def poisoned(self) -> int:
        # The confirmed order's placement: its reservation, payment and confirmation follow.
        confirmed = f"order-{self.orders['confirmed']}"
        return next(
            i
            for i, r in enumerate(self.records)
            if stream_of(r) == confirmed and type_of(r) == "OrderPlaced"
        )

    def implied(self, fresh: Fresh) -> None:
        self.assert_orders(fresh)
        self.assert_levels(fresh)
        self.assert_stats(fresh)

    def assert_stats(self, fresh: Fresh) -> None:
        """Each product's stats: the orders confirmed and not cancelled since, its reviews."""
        for name, product_id in self.products.items():
            confirmed = [
                lines[name]
                for label, lines in self.lines.items()
                if self.outcome[label][0] == "confirmed" and name in lines
            ]
            ratings = self.ratings.get(name, {}).values()
            units = sum(confirmed)
            average = None
            if ratings:
                average = float(
                    (Decimal(sum(ratings)) / len(ratings)).quantize(
                        Decimal("0.01"), rounding=ROUND_HALF_UP
                    )
                )
            assert fresh.get(f"/products/{product_id}/stats") == {
                "orders_count": len(confirmed),
                "units_sold": units,
                "revenue": str(Decimal(self.prices[name]) * units),
                "review_count": len(ratings),
                "average_rating": average,
                "ratings": {str(r): list(ratings).count(r) for r in range(1, 6)},
            }, name

    def assert_orders(self, fresh: Fresh) -> None:
        """Each order's view is its aggregate's, listed for its customer newest first, and
        held products are exactly those of the orders not cancelled."""
        repository = composition.container().repository
        for label, order_id in self.orders.items():
            order = repository.load(Order, order_id)
            view = fresh.get(f"/orders/{order_id}")
            status, reason = self.outcome[label]
            assert (view["status"], view["reason"]) == (status, reason), label
            assert (order.state.status.value, order.version) == (status, view["version"]), label
            assert {i["product_id"]: i["quantity"] for i in view["items"]} == {
                self.products[p]: q for p, q in self.lines[label].items()
            }, label
            assert view["total"] == str(order.state.total), label
            assert view["customer_id"] == self.users[self.owner[label]], label
        for customer, user_id in self.users.items():
            listed = fresh.get("/orders", customer_id=user_id)
            newest_first = [self.orders[label] for label in reversed(self.labels_of(customer))]
            assert [o["id"] for o in listed["items"]] == newest_first, customer
        everyone = fresh.get("/orders", limit="100")
        assert [o["id"] for o in everyone["items"]] == list(reversed(self.orders.values()))
        holders: dict[str, set[str]] = defaultdict(set)
        for pk, sk in fresh.views():
            if kind((pk, sk)) == "holders":
                holders[pk.removeprefix("product#").removesuffix("#orders")].add(sk)
        assert dict(holders) == self.holders()

    def assert_levels(self, fresh: Fresh) -> None:
        """Each product's inventory view and GET /inventory answer its Inventory aggregate."""
        repository = composition.container().repository
        views = DynamoDBViewStore(fresh.stack.client, fresh.table, consistent_reads=True)
        views = views.scoped(Pointer.initial(OrderingViews()).live.prefix)
        for name, product_id in self.products.items():
            buckets = repository.load_many(Inventory, bucket_ids(product_id))
            stock = Stock.of(product_id, buckets.values())
            levels = {
                "product_id": product_id,
                "on_hand": stock.on_hand,
                "reserved": stock.reserved,
                "available": stock.available,
                "version": stock.version,
            }
            assert fresh.get(f"/inventory/{product_id}") == levels, name
            for bucket_id, inventory in buckets.items():
                doc = views.get(inventory_key(bucket_id))
                if not inventory.exists:
                    assert doc is None, bucket_id
                    continue
                assert doc is not None, bucket_id
                # The state the projector keeps (open reservations per order) is the bucket's.
                restored = Inventory.restore(bucket_id, doc["version"], doc["state"])
                assert (restored.version, restored.state) == (
                    inventory.version,
                    inventory.state,
                ), bucket_id


class Shop:
    """Drives ordering through its HTTP routes, recording what the answers say."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.history = OrderingHistory(admin=stack.admin_token())
        category = self.ok("POST", "/categories", {"name": "Books"})
        self.category = str(category["id"])

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Answer:
        return self.stack.api.request(method, path, json_body=body, token=token)

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Item:
        answer = self.call(method, path, body, token or self.history.admin)
        assert answer.status in (200, 201, 202), f"{method} {path}: {answer.text}"
        return dict(answer.json)

    def customer(self, name: str) -> None:
        body = {"email": f"{name}@example.com", "password": f"{name} password 1"}
        self.history.users[name] = str(self.ok("POST", "/users", body)["id"])
        self.history.tokens[name] = str(self.ok("POST", "/auth/token", body)["access_token"])

    def product(self, name: str, price: str) -> None:
        body = {"name": name, "description": "d", "price": price, "category_id": self.category}
        pid = str(self.ok("POST", "/products", body)["id"])
        self.ok("POST", f"/products/{pid}/activate")
        self.history.products[name] = pid
        self.history.prices[name] = price

    def review(self, customer: str, product: str, rating: int) -> None:
        path = f"/products/{self.history.products[product]}/reviews"
        self.ok("POST", path, {"rating": rating, "comment": ""}, self.history.tokens[customer])
        self.history.ratings.setdefault(product, {})[customer] = rating

    def count(self, name: str, on_hand: int) -> None:
        self.ok("PUT", f"/inventory/{self.history.products[name]}", {"on_hand": on_hand})

    def order(self, label: str, customer: str, **lines: int) -> None:
        items = [{"product_id": self.history.products[p], "quantity": q} for p, q in lines.items()]
        created = self.ok("POST", "/orders", {"items": items}, self.history.tokens[customer])
        self.history.orders[label] = str(created["id"])
        self.history.owner[label] = customer
        self.history.lines[label] = dict(lines)
        self.history.outcome[label] = ("draft", None)

    def add(self, label: str, product: str, quantity: int) -> None:
        body = {"product_id": self.history.products[product], "quantity": quantity}
        self.ok("POST", f"/orders/{self.history.orders[label]}/items", body, self._owner(label))
        lines = self.history.lines[label]
        lines[product] = lines.get(product, 0) + quantity

    def remove(self, label: str, product: str) -> None:
        path = f"/orders/{self.history.orders[label]}/items/{self.history.products[product]}"
        self.ok("DELETE", path, token=self._owner(label))
        del self.history.lines[label][product]

    def place(self, label: str, method: str, outcome: tuple[str, str | None]) -> None:
        body = {"payment_method": method}
        self.ok("POST", f"/orders/{self.history.orders[label]}/place", body, self._owner(label))
        self.history.outcome[label] = outcome

    def cancel(self, label: str, *, by_admin: bool = False) -> None:
        token = self.history.admin if by_admin else self._owner(label)
        answer = self.ok("POST", f"/orders/{self.history.orders[label]}/cancel", token=token)
        self.history.outcome[label] = ("cancelled", str(answer["reason"]))

    def _owner(self, label: str) -> str:
        return self.history.tokens[self.history.owner[label]]


def ordering_history(stack: Stack) -> OrderingHistory:
    shop = Shop(stack)
    for name in ("ada", "bob", "cy"):
        shop.customer(name)
    for name, price in (("Book", "20.00"), ("Pen", "2.50"), ("Scarce", "5.00"), ("Plain", "7.00")):
        shop.product(name, price)
    shop.count("Book", 10)
    shop.count("Book", 12)
    shop.count("Pen", 5)
    shop.count("Scarce", 1)  # Plain is never counted

    shop.order("confirmed", "ada", Book=2, Pen=1)
    shop.order("declined", "bob", Book=1)
    shop.order("short", "cy", Scarce=2, Book=1)
    shop.order("returned", "ada", Pen=2)
    shop.order("again", "bob", Book=1)  # the book's second confirmed order
    shop.place("confirmed", VISA, ("confirmed", None))
    shop.place("declined", DECLINED, ("cancelled", CancelReason.PAYMENT_DECLINED))
    shop.place("short", VISA, ("cancelled", CancelReason.OUT_OF_STOCK))
    shop.place("returned", VISA, ("confirmed", None))
    shop.place("again", VISA, ("confirmed", None))
    shop.order("draft", "bob", Book=1)
    shop.add("draft", "Pen", 2)
    shop.add("draft", "Book", 1)
    shop.remove("draft", "Pen")
    shop.order("another draft", "cy", Pen=1)
    shop.add("another draft", "Scarce", 1)
    shop.remove("another draft", "Pen")
    shop.order("dropped", "ada", Plain=1)
    shop.cancel("dropped")
    assert stack.run_process() == []
    shop.cancel("returned", by_admin=True)  # after confirmation: refunded, units returned
    shop.order("reserved", "cy", Book=3)
    assert stack.run_process() == []
    shop.place("reserved", VISA, ("placed", None))
    assert stack.run_process(rounds=1) == []  # reserved, not yet charged
    for on_hand in (15, 14, 15):  # recounted while 3 are reserved (in their buckets)
        shop.count("Book", on_hand)
    shop.order("pending", "bob", Pen=1)
    shop.place("pending", VISA, ("placed", None))  # the process never sees it
    shop.review("ada", "Book", 4)
    shop.review("bob", "Book", 2)
    shop.review("cy", "Pen", 5)
    shop.review("ada", "Book", 5)  # replaces her 4
    return shop.history
