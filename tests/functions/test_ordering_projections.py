"""Ordering's read model fed real stream records (moto) through the projector function.

One rich history is made once for the module, through the HTTP routes and the order
process's handler: orders confirmed, declined, short of stock, cancelled after
confirmation (refunded, units returned), drafts whose items were added and removed, a
draft cancelled, an order reserved but not yet charged, one placed and never processed,
stock counted and recounted. Each test then projects its stream records into a fresh,
empty views table (in order, twice, shuffled with duplicates, with records withheld), and
every view item (order details with their customer index attributes, the orders#all
listing, inventory levels, the orders holding each product, positions) must equal a
rebuild from the event table, and answer what the history implies: the aggregates' own
state."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.ordering.events import CancelReason
from domain.ordering.inventory import Inventory
from domain.ordering.order import Order, OrderStatus
from domain.ordering.views import inventory_key
from domain.shared.projector import Projector, rebuild
from infra import container as composition
from infra.dynamodb.views import DynamoDBViewStore
from tests.functions.conftest import Stack, open_stack
from tests.support.http_api import Answer
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import batch, stream_records
from tests.support.views import items_of, table_like

Item = dict[str, Any]
Views = dict[tuple[str, str], Item]

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"

ORDERING_KINDS = (
    "order details",
    "order listing",
    "inventory levels",
    "holders",
    "positions",
)

ORDERING_EVENTS = {
    "StockSet",
    "StockReserved",
    "StockReleased",
    "StockCommitted",
    "StockReturned",
    "OrderCreated",
    "OrderItemAdded",
    "OrderItemRemoved",
    "OrderPlaced",
    "OrderCancelled",
    "OrderStockReserved",
    "PaymentRequested",
    "PaymentCharged",
    "PaymentDeclined",
    "OrderConfirmed",
    "ConfirmationSent",
    "OrderStockReleased",
    "OrderStockReturned",
    "PaymentRefunded",
}


# -- the history -------------------------------------------------------------------------


@dataclass
class History:
    """What the commands answered, from which the views' expected contents follow."""

    admin: str = ""
    """The admin's token (signing in again would append an event no test delivers)."""
    tokens: dict[str, str] = field(default_factory=dict)  # customer -> token
    users: dict[str, str] = field(default_factory=dict)  # customer -> user id
    products: dict[str, str] = field(default_factory=dict)  # name -> id
    orders: dict[str, str] = field(default_factory=dict)  # label -> order id
    owner: dict[str, str] = field(default_factory=dict)  # label -> customer
    outcome: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # status, reason
    lines: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> product -> qty
    records: list[Item] = field(default_factory=list)
    rebuilt: Views = field(default_factory=dict)
    """The views rebuilt from the event table (which no test changes), once."""

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


class Shop:
    """Drives ordering through its HTTP routes, recording what the answers say."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.history = History(admin=stack.admin_token())
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


def make_history(stack: Stack) -> History:
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
    shop.place("confirmed", VISA, ("confirmed", None))
    shop.place("declined", DECLINED, ("cancelled", CancelReason.PAYMENT_DECLINED))
    shop.place("short", VISA, ("cancelled", CancelReason.OUT_OF_STOCK))
    shop.place("returned", VISA, ("confirmed", None))
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
    for on_hand in (15, 14, 15):  # recounted while 3 are reserved: a snapshot is taken
        shop.count("Book", on_hand)
    shop.order("pending", "bob", Pen=1)
    shop.place("pending", VISA, ("placed", None))  # the process never sees it

    history = shop.history
    history.records = stream_records(stack.client, stack.tables["EventsTable"])
    history.rebuilt = rebuilt_views(stack)
    return history


@dataclass
class World:
    stack: Stack
    history: History


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto world and one history for the module: each test projects it afresh."""
    with pytest.MonkeyPatch.context() as patch, open_stack(patch) as stack:
        yield World(stack, make_history(stack))


def create_views_table(stack: Stack) -> str:
    """An empty table shaped like the views table (keys, index)."""
    return table_like(stack.client, stack.tables["ViewsTable"])


def rebuilt_views(stack: Stack) -> Views:
    """The views rebuilt from the event table into a fresh table."""
    fresh = create_views_table(stack)
    c = composition.container()
    rebuild(
        Projector(
            c.projector.projections,
            c.event_store,
            DynamoDBViewStore(stack.client, fresh, consistent_reads=True),
        )
    )
    return view_items(stack, fresh)


@dataclass
class Fresh:
    """The module's history, with an empty views table that the functions use."""

    stack: Stack
    history: History
    table: str

    def views(self) -> Views:
        return view_items(self.stack, self.table)

    def get(self, path: str, **query: str) -> Item:
        answer = self.stack.api.request("GET", path, token=self.history.admin, query=query or None)
        assert answer.status == 200, f"{path}: {answer.text}"
        return dict(answer.json)


@pytest.fixture
def fresh(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fresh]:
    table = create_views_table(world.stack)
    original = world.stack.tables["ViewsTable"]
    monkeypatch.setenv("VIEWS_TABLE", table)
    world.stack.use_table("ViewsTable", table)
    composition.use(None)
    yield Fresh(world.stack, world.history, table)
    world.stack.use_table("ViewsTable", original)
    composition.use(None)


# -- delivering and comparing ------------------------------------------------------------


def deliver(records: list[Item]) -> list[str]:
    """One Lambda batch through the real projector handler; the failed sequence numbers."""
    from functions.projectors.app import handler

    result = handler(batch(records), FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def view_items(stack: Stack, table: str) -> Views:
    """Every item of a views table, by key."""
    return items_of(stack.client, table)


def kind(key: tuple[str, str]) -> str:
    pk, sk = key
    if pk.startswith("order#") and sk == "detail":
        return "order details"
    if pk == "orders#all":
        return "order listing"
    if pk.startswith("inventory#") and sk == "levels":
        return "inventory levels"
    if pk.startswith("product#") and pk.endswith("#orders"):
        return "holders"
    if pk.startswith("position#"):
        return "positions"
    return "other views"


def by_kind(views: Views) -> dict[str, Views]:
    grouped: dict[str, Views] = defaultdict(dict)
    for key, item in views.items():
        grouped[kind(key)][key] = item
    return grouped


def assert_equal_to_a_rebuild(fresh: Fresh) -> None:
    """Every view item equals the rebuild's, kind by kind (so a failure names its kind)."""
    actual, expected = by_kind(fresh.views()), by_kind(fresh.history.rebuilt)
    for name in ORDERING_KINDS:
        assert expected[name], f"the rebuild has no {name}: the history does not cover them"
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], name
    index = {key: (item["gsi1pk"], item["gsi1sk"]) for key, item in actual["order details"].items()}
    assert index == {
        key: (item["gsi1pk"], item["gsi1sk"]) for key, item in expected["order details"].items()
    }


def assert_orders_as_the_history_implies(fresh: Fresh) -> None:
    """Each order's view is its aggregate's, listed for its customer newest first, and
    held products are exactly those of the orders not cancelled."""
    history = fresh.history
    repository = composition.container().repository
    for label, order_id in history.orders.items():
        order = repository.load(Order, order_id)
        view = fresh.get(f"/orders/{order_id}")
        status, reason = history.outcome[label]
        assert (view["status"], view["reason"]) == (status, reason), label
        assert (order.state.status.value, order.version) == (status, view["version"]), label
        assert {i["product_id"]: i["quantity"] for i in view["items"]} == {
            history.products[p]: q for p, q in history.lines[label].items()
        }, label
        assert view["total"] == str(order.state.total), label
        assert view["customer_id"] == history.users[history.owner[label]], label
    for customer, user_id in history.users.items():
        listed = fresh.get("/orders", customer_id=user_id)
        newest_first = [history.orders[label] for label in reversed(history.labels_of(customer))]
        assert [o["id"] for o in listed["items"]] == newest_first, customer
    everyone = fresh.get("/orders", limit="100")
    assert [o["id"] for o in everyone["items"]] == list(reversed(history.orders.values()))
    holders: dict[str, set[str]] = defaultdict(set)
    for pk, sk in fresh.views():
        if kind((pk, sk)) == "holders":
            holders[pk.removeprefix("product#").removesuffix("#orders")].add(sk)
    assert dict(holders) == history.holders()


def assert_levels_as_the_aggregates_say(fresh: Fresh) -> None:
    """Each product's inventory view and GET /inventory answer its Inventory aggregate."""
    repository = composition.container().repository
    views = DynamoDBViewStore(fresh.stack.client, fresh.table, consistent_reads=True)
    for name, product_id in fresh.history.products.items():
        inventory = repository.load(Inventory, product_id)
        state = inventory.state
        levels = {
            "product_id": product_id,
            "on_hand": state.on_hand,
            "reserved": state.reserved,
            "available": state.available,
            "version": inventory.version,
        }
        assert fresh.get(f"/inventory/{product_id}") == levels, name
        doc = views.get(inventory_key(product_id))
        if not inventory.exists:
            assert doc is None, name
            continue
        assert doc is not None, name
        # The state the projector keeps (open reservations per order) is the aggregate's.
        restored = Inventory.restore(product_id, doc["version"], doc["state"])
        assert (restored.version, restored.state) == (inventory.version, state), name


def assert_views_are_right(fresh: Fresh) -> None:
    """Equal to the rebuild, item for item. (The rebuild answers what the history implies:
    the in-order test checks both of the same views.)"""
    assert_equal_to_a_rebuild(fresh)


def stream_of(record: Item) -> str:
    return str(record["dynamodb"]["NewImage"]["stream_id"]["S"])


def version_of(record: Item) -> int:
    return int(record["dynamodb"]["NewImage"]["version"]["N"])


def type_of(record: Item) -> str:
    return str(record["dynamodb"]["NewImage"]["type"]["S"])


def positions(fresh: Fresh) -> dict[str, int]:
    return {
        pk.removeprefix("position#"): int(item["version"]["N"])
        for (pk, _), item in fresh.views().items()
        if pk.startswith("position#")
    }


def last_versions(records: list[Item]) -> dict[str, int]:
    last: dict[str, int] = {}
    for record in records:
        last[stream_of(record)] = max(last.get(stream_of(record), 0), version_of(record))
    return last


# -- the specifications ------------------------------------------------------------------


def test_the_history_covers_every_ordering_event_and_outcome(world: World) -> None:
    history = world.history
    assert {type_of(r) for r in history.records} >= ORDERING_EVENTS
    statuses = {status for status, _ in history.outcome.values()}
    assert statuses == {s.value for s in OrderStatus}
    reasons = {reason for _, reason in history.outcome.values() if reason}
    assert reasons == {r.value for r in CancelReason}
    repository = composition.container().repository
    for label, order_id in history.orders.items():
        order = repository.load(Order, order_id)
        assert (order.state.status.value, order.state.reason) == history.outcome[label], label
        assert order.next_step() is None or label in ("reserved", "pending"), label
    book = repository.load(Inventory, history.products["Book"]).state
    assert (book.on_hand, book.reserved, book.available) == (15, 3, 12)
    pen = repository.load(Inventory, history.products["Pen"]).state
    assert (pen.on_hand, pen.reserved) == (4, 0)
    assert not repository.load(Inventory, history.products["Plain"]).exists
    book_stream = f"inventory-{history.products['Book']}"
    assert last_versions(history.records)[book_stream] >= 10  # past a snapshot
    assert len(history.records) < 1000  # stream_records reads one page


def test_in_order_delivery_equals_a_rebuild_in_every_view_item(fresh: Fresh) -> None:
    records = fresh.history.records
    assert deliver(records) == []
    assert positions(fresh) == last_versions(records)
    assert_views_are_right(fresh)
    assert_orders_as_the_history_implies(fresh)
    assert_levels_as_the_aggregates_say(fresh)


def test_a_redelivered_batch_changes_nothing(fresh: Fresh) -> None:
    records = fresh.history.records
    assert deliver(records) == []
    before = fresh.views()
    assert deliver(records) == []
    assert fresh.views() == before
    assert deliver(list(reversed(records))) == []
    assert fresh.views() == before


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_shuffled_batches_with_duplicates_equal_a_rebuild(fresh: Fresh, seed_value: int) -> None:
    rng = random.Random(seed_value)
    records = fresh.history.records
    shuffled = records + rng.sample(records, k=len(records) // 2)
    rng.shuffle(shuffled)
    third = len(shuffled) // 3
    for part in (shuffled[:third], shuffled[third : 2 * third], shuffled[2 * third :]):
        assert deliver(part) == []
    assert positions(fresh) == last_versions(records)
    assert_views_are_right(fresh)


def test_withheld_records_are_filled_from_the_event_table(fresh: Fresh) -> None:
    history = fresh.history
    returned = f"order-{history.orders['returned']}"
    book = f"inventory-{history.products['Book']}"
    # The confirmation of the order later cancelled (its units then go back), and the
    # book's first count (every later level builds on it).
    withheld = [
        next(r for r in history.records if stream_of(r) == returned and type_of(r) == kind)
        for kind in ("OrderConfirmed",)
    ]
    withheld.append(next(r for r in history.records if stream_of(r) == book and version_of(r) == 1))
    rest = [r for r in history.records if all(r is not w for w in withheld)]
    assert deliver(rest) == []
    assert positions(fresh) == last_versions(history.records)
    assert_views_are_right(fresh)
    before = fresh.views()
    assert deliver(withheld) == []  # they arrive late: duplicates
    assert fresh.views() == before


def test_inventory_levels_equal_what_the_inventory_aggregates_say(fresh: Fresh) -> None:
    history = fresh.history
    records = history.records
    inventories = [r for r in records if stream_of(r).startswith("inventory-")]
    assert {type_of(r) for r in inventories} == {
        "StockSet",
        "StockReserved",
        "StockReleased",
        "StockCommitted",
        "StockReturned",
    }
    # Inventory records only, newest first: every one but the newest of a stream fills
    # its gap from the event table, and then every older one is a duplicate.
    assert deliver(list(reversed(inventories))) == []
    assert_levels_as_the_aggregates_say(fresh)
    expected = {
        "Book": (15, 3, 12),
        "Pen": (4, 0, 4),
        "Scarce": (1, 0, 1),
        "Plain": (0, 0, 0),
    }
    for name, (on_hand, reserved, available) in expected.items():
        levels = fresh.get(f"/inventory/{history.products[name]}")
        assert (levels["on_hand"], levels["reserved"], levels["available"]) == (
            on_hand,
            reserved,
            available,
        ), name
    assert deliver(records) == []
    assert_views_are_right(fresh)


def test_an_order_whose_draft_went_through_many_products_is_rebuilt(fresh: Fresh) -> None:
    """A draft holds at most MAX_LINES lines at once, but over its life it may hold any
    number of products. Its events are recorded with the aggregate the service uses
    (creating 96 catalogue products through the routes would take most of this file's
    time), a few commands' worth per write."""
    from decimal import Decimal

    from domain.ordering.ports import ProductInfo
    from domain.shared.context import CommandContext

    c = composition.container()
    order = Order.create(c.ids.new_id(), fresh.history.users["ada"], c.clock.now())
    context = CommandContext("t", "t")
    products = [ProductInfo(f"p{n:03}", f"Product {n}", Decimal("1.00"), True) for n in range(96)]
    changes = [("add", p) for p in products[:48]] + [("remove", p) for p in products[:48]]
    changes += [("add", p) for p in products[48:]]
    for start in range(0, len(changes), 12):
        for change, product in changes[start : start + 12]:
            if change == "add":
                order.add_item(product.product_id, 1, product)
            else:
                order.remove_item(product.product_id)
        c.repository.save(order, context=context)
    # A rebuild of the stream, into an empty table.
    table = create_views_table(fresh.stack)
    views = DynamoDBViewStore(fresh.stack.client, table, consistent_reads=True)
    Projector(c.projector.projections, c.event_store, views).catch_up(order.stream_id)
    rebuilt = view_items(fresh.stack, table)
    assert {pk for pk, _ in rebuilt if pk.startswith("product#")} == {
        f"product#{p.product_id}#orders" for p in products[48:]
    }
    # The stream, newest record first: the 144 before it are read from the event table.
    records = [
        r
        for r in stream_records(fresh.stack.client, fresh.stack.tables["EventsTable"])
        if stream_of(r) == order.stream_id
    ]
    assert len(records) == order.version == 1 + 48 + 48 + 48
    assert deliver([records[-1]]) == []
    assert deliver(records) == []
    mine = {k: v for k, v in fresh.views().items() if order.id in k[0] or order.id in k[1]}
    assert mine == rebuilt
