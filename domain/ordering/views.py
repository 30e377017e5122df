"""The ordering read model: order details, orders by customer (newest first), inventory
levels, and the orders holding each product (for reading: the delete is guarded by holds).

Each event is applied to the aggregate restored from the view's stored state, with the
aggregate's own appliers: the view cannot drift from the domain's rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.access import Caller
from domain.errors import NotFound
from domain.ordering.inventory import Inventory, bucket_ids
from domain.ordering.order import Order, OrderCreated, OrderStatus, sees, whose_orders
from event_sourcing.events import DomainEvent, RecordedEvent, iso
from event_sourcing.projector import Projection
from event_sourcing.views import Change, Delete, Doc, Listing, Page, Put, ViewKey, ViewReader

ALL_ORDERS = "orders#all"
"""Every order, newest first (the admin's list): one entry per order, of id
`<created_at>#<order id>`. Spread (`OrderingViews.spread`): every order writes it."""


def order_key(order_id: str) -> ViewKey:
    return ViewKey(f"order#{order_id}", "detail")


def inventory_key(stock_id: str) -> ViewKey:
    """A stock bucket's levels (the product's first bucket's id is the product's)."""
    return ViewKey(f"inventory#{stock_id}", "levels")


def holders_collection(product_id: str) -> str:
    """The orders holding a product: one entry each, of id the order's."""
    return f"product#{product_id}#orders"


def customer_orders(customer_id: str) -> str:
    """The listing of a customer's orders, by creation."""
    return f"customer#{customer_id}#orders"


class OrderingViews(Projection):
    """Orders (details, listings, the orders holding each product) and stock levels."""

    name = "ordering"
    version = 2  # 2: orders show placed_at, confirmed_at, cancelled_at
    streams = (f"{Order.stream_prefix}-", f"{Inventory.stream_prefix}-")
    spread = frozenset({ALL_ORDERS})

    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]:
        kind, _, aggregate_id = recorded.stream_id.partition("-")
        if kind == Order.stream_prefix:
            return _order(aggregate_id, event, recorded, views)
        if kind == Inventory.stream_prefix:
            return _inventory(aggregate_id, event, recorded, views)
        return []


def _order(
    order_id: str, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
) -> list[Change]:
    current = views.get(order_key(order_id))
    before = (
        Order.blank(order_id)
        if current is None
        else Order.restore(order_id, current["version"], current["state"])
    )
    held_before = _held(before)
    after = Order.rebuild(order_id, [event], base=before)
    doc = present_order(after)
    created = isinstance(event, OrderCreated)
    sort = f"{doc['created_at']}#{order_id}"
    changes: list[Change] = [
        Put(
            order_key(order_id),
            {**doc, "state": after.snapshot_state()},
            listed=Listing(customer_orders(after.state.customer_id), sort),
        )
    ]
    if created:
        changes.append(Put(ViewKey(ALL_ORDERS, sort), {"id": order_id}))
    # Holder entries are written ahead of the commit: an order can pass through more
    # products over its life than one commit holds, and each entry follows from the event
    # and the state before it.
    held_after = _held(after)
    changes += [
        Put(ViewKey(holders_collection(p), order_id), {"id": order_id}, ahead=True)
        for p in held_after - held_before
    ]
    changes += [
        Delete(ViewKey(holders_collection(p), order_id), ahead=True)
        for p in held_before - held_after
    ]
    return changes


def _held(order: Order) -> set[str]:
    if not order.exists or order.state.status is OrderStatus.CANCELLED:
        return set()
    return {line.product_id for line in order.state.items}


def present_order(order: Order) -> Doc:
    state = order.state
    return {
        "id": order.id,
        "customer_id": state.customer_id,
        "status": state.status.value,
        "reason": state.reason.value if state.reason else None,
        "items": [
            {
                "product_id": line.product_id,
                "name": line.name,
                "unit_price": str(line.unit_price),
                "quantity": line.quantity,
                "subtotal": str(line.subtotal),
            }
            for line in state.items
        ],
        "total": str(state.total),
        "version": order.version,
        "created_at": _time(state.created_at),
        "placed_at": _time(state.placed_at),
        "confirmed_at": _time(state.confirmed_at),
        "cancelled_at": _time(state.cancelled_at),
    }


def _time(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def _inventory(
    stock_id: str, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
) -> list[Change]:
    """One document per stock bucket, each in its own partition: orders of one product
    reserving from different buckets write different partitions here too."""
    current = views.get(inventory_key(stock_id))
    before = (
        Inventory.blank(stock_id)
        if current is None
        else Inventory.restore(stock_id, current["version"], current["state"])
    )
    after = Inventory.rebuild(stock_id, [event], base=before)
    return [Put(inventory_key(stock_id), {**_levels(after), "state": after.snapshot_state()})]


def _levels(inventory: Inventory) -> Doc:
    state = inventory.state
    return {
        "product_id": inventory.product_id,
        "on_hand": state.on_hand,
        "reserved": state.reserved,
        "available": state.on_hand - state.reserved,
        "version": inventory.version,
    }


# -- reading -----------------------------------------------------------------------------

PUBLIC = (
    "id",
    "customer_id",
    "status",
    "reason",
    "items",
    "total",
    "version",
    "created_at",
    "placed_at",
    "confirmed_at",
    "cancelled_at",
)


def order_doc(views: ViewReader, order_id: str) -> Doc:
    """The order's view as stored (visibility is `visible_to`'s business)."""
    doc = views.get(order_key(order_id))
    if doc is None:
        raise NotFound("No such order.", code="order_not_found")
    return doc


def visible_to(doc: Doc, caller: Caller) -> Doc:
    """The order, to its owner or an admin; to anyone else it does not exist."""
    if not sees(caller, doc["customer_id"]):
        raise NotFound("No such order.", code="order_not_found")
    return {k: doc[k] for k in PUBLIC}


def orders_of(
    views: ViewReader,
    caller: Caller,
    customer_id: str | None,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Doc], str | None]:
    """Orders newest first: the caller's own; an admin's: one customer's, or everyone's."""
    customer_id = whose_orders(caller, customer_id)
    if customer_id is not None:
        page = views.listing(
            customer_orders(customer_id), limit=limit, cursor=cursor, descending=True
        )
        return [{k: d[k] for k in PUBLIC} for d in page.items], page.cursor
    entries: Page = views.query(ALL_ORDERS, limit=limit, cursor=cursor, descending=True)
    found = views.get_many([order_key(d["id"]) for d in entries.items])
    docs = [found[order_key(d["id"])] for d in entries.items if order_key(d["id"]) in found]
    return [{k: d[k] for k in PUBLIC} for d in docs], entries.cursor


def inventory_view(views: ViewReader, product_id: str) -> Doc:
    """The product's stock: its buckets' documents summed (one BatchGetItem); the version
    is its first bucket's, the one its commands answer."""
    found = views.get_many([inventory_key(b) for b in bucket_ids(product_id)])
    first = found.get(inventory_key(product_id))
    on_hand = sum(int(d["on_hand"]) for d in found.values())
    reserved = sum(int(d["reserved"]) for d in found.values())
    return {
        "product_id": product_id,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "version": int(first["version"]) if first is not None else 0,
    }
