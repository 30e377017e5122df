"""The Inventory aggregate: one bucket of a product's stock, on hand and reserved for open
orders.

A product's stock is escrowed in `STOCK_BUCKETS` buckets, each a stream of its own
(`inventory-<product>`, then `inventory-<product>~1` ...): an order reserves from the
bucket its id hashes to, and from the others only when that one is short, so orders of one
product append to different streams instead of queueing on one (docs/architecture.md,
"Flash sales"). What the product has is the sum of its buckets; an admin's count spreads
the free units over them (`count_stock`). The first bucket is the product's stream from
before buckets: its id is the product's, and its version is the one the API answers.

Available is `on_hand - reserved` and never drops below zero. Each open reservation is
kept per order, so releasing or committing an order twice changes nothing the second
time. Returning the units of a confirmed order is guarded by the order instead (its
`OrderStockReturned` goes in the same write), so the stream keeps no per-order record of
past sales and its state stays small however many orders it served."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from domain.errors import Detail, RuleViolation
from domain.ordering.values import check_on_hand, check_quantity
from event_sourcing.events import DomainEvent, registry
from event_sourcing.repository import Aggregate, applies

STOCK_BUCKETS = 32
"""Streams a product's stock is spread over. One stream takes about 40 version-checked
appends a second (read, then a transaction: 20-30 ms each, one at a time); an order appends
twice (reserve, commit): 32 buckets carry about 640 confirmed orders a second of one
product. An admin's count writes them all in one transaction (32 of its 100 items)."""
BUCKET_SEPARATOR = "~"
MIN_SHARE = 16
"""Free units a count puts in a bucket at the least: a small stock fills a few buckets
(ten units: one), so a count writes few streams, and an order whose home bucket holds
nothing finds the stock in the others (it reads them all, once)."""


def bucket_ids(product_id: str) -> tuple[str, ...]:
    """Every bucket of the product's stock, the first (the product's own id) first."""
    return (product_id, *(f"{product_id}{BUCKET_SEPARATOR}{k}" for k in range(1, STOCK_BUCKETS)))


def home_bucket(product_id: str, order_id: str) -> str:
    """The bucket an order reserves from first: by a hash of the order's id, so orders of
    one product spread evenly over its buckets."""
    return bucket_ids(product_id)[spread_of(order_id, STOCK_BUCKETS)]


def spread_of(order_id: str, among: int) -> int:
    """An order's place among `among` buckets, by a hash of its id."""
    return int(hashlib.sha256(order_id.encode()).hexdigest()[:8], 16) % among


def product_of(stock_id: str) -> str:
    """The product whose stock a bucket holds."""
    return stock_id.partition(BUCKET_SEPARATOR)[0]


# -- Events: what an `inventory-<product_id>` stream records. Stored events name these
# classes and fields (the registry maps type names to classes): change them only with a
# new `schema_version` and an upcaster.


@registry.event
@dataclass(frozen=True)
class StockSet(DomainEvent):
    """An admin counted the stock: `on_hand` units, reserved ones included."""

    on_hand: int
    set_by: str


@registry.event
@dataclass(frozen=True)
class StockReserved(DomainEvent):
    order_id: str
    quantity: int


@registry.event
@dataclass(frozen=True)
class StockReleased(DomainEvent):
    """A reservation given back (the order was cancelled before it was confirmed)."""

    order_id: str
    quantity: int


@registry.event
@dataclass(frozen=True)
class StockCommitted(DomainEvent):
    """A reservation turned into a sale: on hand and reserved both drop by `quantity`."""

    order_id: str
    quantity: int


@registry.event
@dataclass(frozen=True)
class StockReturned(DomainEvent):
    """A confirmed order was cancelled: its units are back on hand."""

    order_id: str
    quantity: int


# -- State, decisions and evolution


@dataclass(frozen=True)
class InventoryState:
    on_hand: int = 0
    """Units in the warehouse, reserved ones included."""
    reserved: int = 0
    reservations: dict[str, int] = field(default_factory=dict)
    """Open reservations: order id -> quantity. Sums to `reserved`. Never mutated: every
    change makes a new dict."""

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Inventory(Aggregate[InventoryState]):
    """One bucket of a product's stock; the first bucket's id is the product's."""

    stream_prefix = "inventory"
    state_type = InventoryState

    @property
    def product_id(self) -> str:
        return product_of(self.id)

    def held_for(self, order_id: str) -> int:
        """The quantity reserved for that order (0 if none)."""
        return self.state.reservations.get(order_id, 0)

    def set_on_hand(self, on_hand: int, by: str) -> None:
        """Count the stock anew. The same count records nothing; a count below what open
        orders hold is refused (release or confirm them first)."""
        on_hand = check_on_hand(on_hand)
        if on_hand < self.state.reserved:
            raise RuleViolation(
                f"{self.state.reserved} units are reserved for open orders: the stock on "
                f"hand cannot be less.",
                code="below_reserved",
                details=[Detail("on_hand", f"at least {self.state.reserved}")],
            )
        if self.exists and on_hand == self.state.on_hand:
            return
        self._record(StockSet(on_hand, by))

    def set_share(self, share: int, by: str) -> None:
        """This bucket's part of a count: what it has reserved plus `share` free units
        (a bucket never counted and given none stays as it is: empty, unwritten)."""
        on_hand = self.state.reserved + share
        if on_hand == self.state.on_hand and (self.exists or on_hand == 0):
            return
        self._record(StockSet(on_hand, by))

    def can_reserve(self, quantity: int) -> bool:
        return quantity <= self.state.available

    def reserve(self, order_id: str, quantity: int) -> None:
        """Hold `quantity` for the order. Holding it already records nothing."""
        quantity = check_quantity(quantity)
        if self.held_for(order_id):
            return
        if not self.can_reserve(quantity):
            raise RuleViolation(
                f"Only {max(self.state.available, 0)} units of {self.id!r} are available.",
                code="out_of_stock",
                details=[Detail("quantity", f"at most {max(self.state.available, 0)}")],
            )
        self._record(StockReserved(order_id, quantity))

    def release(self, order_id: str) -> None:
        """Give back what the order holds; nothing if it holds nothing."""
        held = self.held_for(order_id)
        if held:
            self._record(StockReleased(order_id, held))

    def commit(self, order_id: str) -> None:
        """Turn what the order holds into a sale; nothing if it holds nothing."""
        held = self.held_for(order_id)
        if held:
            self._record(StockCommitted(order_id, held))

    def give_back(self, order_id: str, quantity: int) -> None:
        """Put the units of a cancelled, confirmed order back on hand."""
        self._record(StockReturned(order_id, check_quantity(quantity)))

    @applies(StockSet)
    def _set(self, state: InventoryState, event: StockSet) -> InventoryState:
        return replace(state, on_hand=event.on_hand)

    @applies(StockReserved)
    def _reserved(self, state: InventoryState, event: StockReserved) -> InventoryState:
        return replace(
            state,
            reserved=state.reserved + event.quantity,
            reservations=_with(state.reservations, event.order_id, event.quantity),
        )

    @applies(StockReleased)
    def _released(self, state: InventoryState, event: StockReleased) -> InventoryState:
        return replace(
            state,
            reserved=state.reserved - event.quantity,
            reservations=_without(state.reservations, event.order_id),
        )

    @applies(StockCommitted)
    def _committed(self, state: InventoryState, event: StockCommitted) -> InventoryState:
        return replace(
            state,
            on_hand=state.on_hand - event.quantity,
            reserved=state.reserved - event.quantity,
            reservations=_without(state.reservations, event.order_id),
        )

    @applies(StockReturned)
    def _returned(self, state: InventoryState, event: StockReturned) -> InventoryState:
        return replace(state, on_hand=state.on_hand + event.quantity)


@dataclass(frozen=True)
class Stock:
    """A product's stock: the sum of its buckets. `version` is the first bucket's (the
    product's stream from before buckets), the one If-Match names."""

    product_id: str
    on_hand: int
    reserved: int
    version: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @classmethod
    def of(cls, product_id: str, buckets: Iterable[Inventory]) -> Stock:
        found = list(buckets)
        first = next((b for b in found if b.id == product_id), None)
        return cls(
            product_id,
            sum(b.state.on_hand for b in found),
            sum(b.state.reserved for b in found),
            first.version if first is not None else 0,
        )


def count_stock(first: Inventory, others: Mapping[str, Inventory], on_hand: int, by: str) -> None:
    """An admin's count of a product (`first`, its first bucket, and the `others`): every
    bucket keeps what it has reserved, and the free units are spread evenly over as many
    buckets as get `MIN_SHARE` each, all of them for a large stock (the first buckets get
    the remainder). The same count again records nothing; a count below what open orders
    hold is refused."""
    on_hand = check_on_hand(on_hand)
    buckets = [first, *(others[b] for b in bucket_ids(first.id)[1:] if b in others)]
    stock = Stock.of(first.id, buckets)
    if on_hand < stock.reserved:
        raise RuleViolation(
            f"{stock.reserved} units are reserved for open orders: the stock on hand "
            "cannot be less.",
            code="below_reserved",
            details=[Detail("on_hand", f"at least {stock.reserved}")],
        )
    if first.exists and on_hand == stock.on_hand:
        return
    free = on_hand - stock.reserved
    used = max(1, min(len(buckets), free // MIN_SHARE))
    for k, bucket in enumerate(buckets):
        share = free // used + (1 if k < free % used else 0) if k < used else 0
        if bucket is first and not first.exists:
            first.set_on_hand(first.state.reserved + share, by)  # the product's first count
        else:
            bucket.set_share(share, by)


def _with(reservations: dict[str, int], order_id: str, quantity: int) -> dict[str, int]:
    return {**reservations, order_id: quantity}


def _without(reservations: dict[str, int], order_id: str) -> dict[str, int]:
    return {k: v for k, v in reservations.items() if k != order_id}
