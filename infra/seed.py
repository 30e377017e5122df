"""`eventshop-admin seed --local --products N`: a realistic demo shop, through the running
local stack's HTTP API (so every rule applies: names unique, prices rounded, approvals,
stock, the order process): categories, N active products with descriptions and stock,
customers, and orders in every state."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = (
    ("Books", False),
    ("Lamps", False),
    ("Kitchen", False),
    ("Garden", False),
    ("Music", False),
    ("Games", False),
    ("Tools", False),
    ("Designer pieces", True),
)
ADJECTIVES = (
    "Walnut", "Linen", "Copper", "Stoneware", "Oak", "Brass", "Cotton", "Recycled",
    "Compact", "Folding", "Vintage", "Hand-made", "Cordless", "Enamel", "Bamboo", "Glass",
)  # fmt: skip
NOUNS = {
    "Books": ("Cookbook", "Field Guide", "Novel", "Atlas", "Sketchbook"),
    "Lamps": ("Desk Lamp", "Floor Lamp", "Reading Light", "Pendant", "Lantern"),
    "Kitchen": ("Teapot", "Chef's Knife", "Mixing Bowl", "Cutting Board", "Kettle"),
    "Garden": ("Planter", "Trowel", "Watering Can", "Bird Feeder", "Hose Reel"),
    "Music": ("Ukulele", "Metronome", "Harmonica", "Music Stand", "Tambourine"),
    "Games": ("Chess Set", "Puzzle", "Card Game", "Dice Tower", "Board Game"),
    "Tools": ("Hammer", "Screwdriver Set", "Tape Measure", "Hand Saw", "Spirit Level"),
    "Designer pieces": ("Armchair", "Side Table", "Wall Clock", "Vase", "Mirror"),
}
QUALITIES = (
    "built to last", "easy to clean", "made in small batches", "a customer favourite",
    "gift-wrapped on request", "sourced responsibly", "light enough to carry anywhere",
)  # fmt: skip
CENTS = ("00", "50", "99")
CUSTOMERS_PER_PRODUCTS = 50
ORDERS_PER_PRODUCTS = 10
WORKERS = 8
"""Requests in flight at once (the local stack runs several sandboxes per function)."""
ORDER_KINDS = ("draft", "placed", "cancelled", "declined")
"""A draft stays one; a placed order is confirmed by the order process moments later; a
cancelled one the customer cancelled; a declined one the process cancels (card declined)."""


class SeedFailed(Exception):
    """The stack refused what the seed asked (the message names the request)."""


@dataclass
class Api:
    """JSON over HTTP to the local stack's gateway."""

    url: str

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310 (the local stack's http URL)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"null")

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        status, answer = self.call(method, path, body, token)
        if status >= 300:
            raise SeedFailed(f"{method} {path} answered {status}: {answer}")
        return answer


@dataclass
class Seeded:
    tag: str = ""
    """In every name and email of this run (`GET /products?q=<tag>` finds its products;
    its customers are customer-<tag>-<n>@demo.example.com, password "demo password")."""
    categories: int = 0
    products: int = 0
    customers: int = 0
    orders: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER_KINDS, 0))
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "categories": self.categories,
            "products": self.products,
            "customers": self.customers,
            "orders": dict(self.orders),
            "seconds": round(self.seconds, 1),
        }


def steps(products: int) -> int:
    """How many units of work `seed` reports (for a progress bar's total)."""
    customers, orders = _sizes(products)
    return len(CATEGORIES) + products + customers + orders


def _sizes(products: int) -> tuple[int, int]:
    customers = max(3, products // CUSTOMERS_PER_PRODUCTS)
    orders = max(len(ORDER_KINDS), products // ORDERS_PER_PRODUCTS)
    return customers, orders


def seed(
    api: Api,
    admin_token: str,
    products: int,
    *,
    advance: Callable[[int], None] = lambda done: None,
    rng: random.Random | None = None,
) -> Seeded:
    """Fill the shop; `advance(n)` after each n units of work (`steps`)."""
    rng = rng or random.Random()  # noqa: S311 (demo data, no secret)
    started = time.monotonic()
    tag = uuid.uuid4().hex[:4]  # a run's names are its own: seeding twice adds, never clashes
    done = Seeded(tag)
    categories = _categories(api, admin_token)
    done.categories = len(categories)
    advance(len(CATEGORIES))

    def product(n: int) -> tuple[str, str]:
        name, premium = CATEGORIES[n % len(CATEGORIES)]
        noun = rng.choice(NOUNS[name])
        body = {
            "name": f"{rng.choice(ADJECTIVES)} {noun} {tag}-{n:05d}",
            "description": f"{_a(noun)} {noun.lower()} {rng.choice(QUALITIES)}, "
            f"{rng.choice(QUALITIES)}.",
            "price": f"{rng.randint(4, 700 if premium else 400)}.{rng.choice(CENTS)}",
            "category_id": categories[name],
        }
        created = api.ok("POST", "/products", body, admin_token)
        pid = str(created["id"])
        if created.get("requires_approval"):
            api.ok("POST", f"/products/{pid}/approve", token=admin_token)
        api.ok("POST", f"/products/{pid}/activate", token=admin_token)
        api.ok("PUT", f"/inventory/{pid}", {"on_hand": rng.randint(20, 500)}, admin_token)
        advance(1)
        return pid, name

    with ThreadPoolExecutor(WORKERS) as pool:
        made = list(pool.map(product, range(products)))
        done.products = len(made)
        customers_wanted, orders_wanted = _sizes(products)

        def customer(n: int) -> str:
            body = {"email": f"customer-{tag}-{n}@demo.example.com", "password": "demo password"}
            api.ok("POST", "/users", body)
            token = str(api.ok("POST", "/auth/token", body)["access_token"])
            advance(1)
            return token

        customers = list(pool.map(customer, range(customers_wanted)))
        done.customers = len(customers)

        def order(n: int) -> str:
            kind = ORDER_KINDS[n % len(ORDER_KINDS)]
            token = customers[n % len(customers)]
            lines = rng.sample(made, k=min(len(made), rng.randint(1, 3))) if made else []
            items = [{"product_id": pid, "quantity": rng.randint(1, 3)} for pid, _ in lines]
            oid = str(api.ok("POST", "/orders", {"items": items}, token)["id"])
            if kind in ("placed", "declined"):
                method = "pm_card_visa" if kind == "placed" else "pm_card_chargeDeclined"
                api.ok("POST", f"/orders/{oid}/place", {"payment_method": method}, token)
            elif kind == "cancelled":
                api.ok("POST", f"/orders/{oid}/cancel", token=token)
            advance(1)
            return kind

        for kind in pool.map(order, range(orders_wanted)):
            done.orders[kind] += 1
    done.seconds = time.monotonic() - started
    return done


def _a(noun: str) -> str:
    return "An" if noun[0].lower() in "aeiou" else "A"


def _categories(api: Api, token: str) -> dict[str, str]:
    """The demo categories' ids: those that exist already (an earlier seed), the rest made."""
    existing: dict[str, str] = {}
    cursor: str | None = None
    while True:
        after = f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""
        page = api.ok("GET", f"/categories?limit=100{after}")
        existing |= {str(c["name"]): str(c["id"]) for c in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            break
    for name, premium in CATEGORIES:
        if name not in existing:
            body = {"name": name, "allows_products": True, "premium": premium}
            status, answer = api.call("POST", "/categories", body, token)
            if status == 201:
                existing[name] = str(answer["id"])
            elif status != 409:  # 409: made meanwhile, not yet in the list: wait for it
                raise SeedFailed(f"POST /categories answered {status}: {answer}")
    for name, _ in CATEGORIES:
        deadline = time.monotonic() + 10
        while name not in existing and time.monotonic() < deadline:
            time.sleep(0.2)
            page = api.ok("GET", "/categories?limit=100")
            existing |= {str(c["name"]): str(c["id"]) for c in page["items"]}
        if name not in existing:
            raise SeedFailed(f"category {name} exists but is not listed yet: seed again")
    return existing
