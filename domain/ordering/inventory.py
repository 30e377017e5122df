"""The Inventory aggregate: one product's stock, on hand and reserved for open orders.

Available is `on_hand - reserved` and never drops below zero. Each open reservation is
kept per order, so releasing or committing an order twice changes nothing the second
time. Returning the units of a confirmed order is guarded by the order instead (its
`OrderStockReturned` goes in the same write), so the stream keeps no per-order record of
past sales and its state stays small however many orders it served."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from domain.errors import Detail, RuleViolation
from domain.ordering.values import check_on_hand, check_quantity
from event_sourcing.aggregate import Aggregate, applies
from event_sourcing.events import DomainEvent, registry

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
    """Its id is the product's id."""

    stream_prefix = "inventory"
    state_type = InventoryState

    @property
    def product_id(self) -> str:
        return self.id

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


def _with(reservations: dict[str, int], order_id: str, quantity: int) -> dict[str, int]:
    return {**reservations, order_id: quantity}


def _without(reservations: dict[str, int], order_id: str) -> dict[str, int]:
    return {k: v for k, v in reservations.items() if k != order_id}
