"""Each product's sales and ratings (the seed's `GetProductStatsQuery`): a projection of
orders and reviews, outside both contexts because it reads both.

An order counts once it is confirmed (orders, units, revenue of its lines), and no more if
it is cancelled after that; an order cancelled before it was confirmed never counted.
OrderConfirmed names no lines, so the projection keeps each order's state in a document of
its own, applied with the Order aggregate's own appliers (it cannot drift from the
domain's rules). The counts are `Increment`s: orders and reviews of one product arrive on
many streams, in any order between them, and additions commute."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from domain.access import Caller, require_admin
from domain.catalog.review import MAX_RATING, MIN_RATING, Review, ReviewPosted
from domain.catalog.views import average_rating, product_view
from domain.ordering.order import Order, OrderState, OrderStatus
from event_sourcing.events import DomainEvent, RecordedEvent
from event_sourcing.projector import Projection
from event_sourcing.views import Change, Increment, Put, ViewKey, ViewReader

RATINGS = tuple(range(MIN_RATING, MAX_RATING + 1))
CENT = Decimal("0.01")


STATS_SHARDS = 4
"""A product's counts are kept in this many documents, each in a partition of its own,
summed on read: a flash sale's confirmed orders (each a transactional increment, 2 WCU)
spread over 4 x 1,000 WCU/s, and concurrent projector commits rarely meet on one item."""


def stats_key(product_id: str) -> ViewKey:
    """The one document the previous release counted in: still read and summed."""
    return ViewKey(f"product#{product_id}", "stats")


def stats_shard_key(product_id: str, stream_id: str) -> ViewKey:
    """The document that counts what `stream_id` (an order, a review) adds to a product."""
    shard = zlib.crc32(stream_id.encode()) % STATS_SHARDS
    return ViewKey(f"product#{product_id}#stats#{shard}", "stats")


def stats_keys(product_id: str) -> list[ViewKey]:
    """Every document a product's counts are in (summed on read)."""
    return [stats_key(product_id)] + [
        ViewKey(f"product#{product_id}#stats#{shard}", "stats") for shard in range(STATS_SHARDS)
    ]


def counted_order_key(order_id: str) -> ViewKey:
    return ViewKey(f"order#{order_id}", "stats")


class ProductStats(Projection):
    """Per product: orders, units sold, revenue (in cents), reviews and ratings by star."""

    name = "product-stats"
    version = 1
    streams = (f"{Order.stream_prefix}-", f"{Review.stream_prefix}-")

    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]:
        if isinstance(event, ReviewPosted):
            return _review(event, recorded.stream_id)
        kind, _, order_id = recorded.stream_id.partition("-")
        if kind == Order.stream_prefix:
            return _order(order_id, event, views)
        return []


def _review(event: ReviewPosted, stream_id: str) -> list[Change]:
    counts = {f"rating_{event.rating}": 1, "review_count": 1}
    if event.previous_rating is not None:
        counts["review_count"] = 0
        counts[f"rating_{event.previous_rating}"] = (
            counts.get(f"rating_{event.previous_rating}", 0) - 1
        )
    return [Increment(stats_shard_key(event.product_id, stream_id), counts)]


def _order(order_id: str, event: DomainEvent, views: ViewReader) -> list[Change]:
    current = views.get(counted_order_key(order_id))
    order = (
        Order.blank(order_id)
        if current is None
        else Order.restore(order_id, current["version"], current["state"])
    )
    before = order.state
    order = Order.rebuild(order_id, [event], base=order)  # applies to `order` itself
    after = order.state
    changes: list[Change] = [
        Put(
            counted_order_key(order_id), {"version": order.version, "state": order.snapshot_state()}
        )
    ]
    if before.status is not OrderStatus.CONFIRMED and after.status is OrderStatus.CONFIRMED:
        changes += _sales(order.stream_id, after, sign=1)
    elif before.status is OrderStatus.CONFIRMED and after.status is OrderStatus.CANCELLED:
        changes += _sales(order.stream_id, before, sign=-1)
    return changes


def _sales(stream_id: str, order: OrderState, *, sign: int) -> list[Change]:
    """The order's lines, added to (or taken from) their products' counts."""
    return [
        Increment(
            stats_shard_key(line.product_id, stream_id),
            {
                "orders_count": sign,
                "units_sold": sign * line.quantity,
                "revenue_cents": sign * int(line.subtotal * 100),
            },
        )
        for line in order.items
    ]


# -- reading -----------------------------------------------------------------------------


def stats_of(
    caller: Caller | None, catalog: ViewReader, stats: ViewReader, product_id: str
) -> dict[str, Any]:
    """The product's stats, to admins, if the catalogue has the product (`NotFound` if
    not); zeros before any order or review."""
    require_admin(caller)
    product_view(catalog, product_id, admin=True)
    return product_stats(stats, product_id)


_COUNTS = (
    "orders_count",
    "units_sold",
    "revenue_cents",
    "review_count",
    *(f"rating_{r}" for r in RATINGS),
)


def product_stats(views: ViewReader, product_id: str) -> dict[str, Any]:
    """The product's stats as the API answers them (zeros before any order or review)."""
    docs = views.get_many(stats_keys(product_id)).values()
    doc = {field: sum(int(d.get(field, 0)) for d in docs) for field in _COUNTS}
    ratings = {str(r): int(doc.get(f"rating_{r}", 0)) for r in RATINGS}
    count = int(doc.get("review_count", 0))
    return {
        "orders_count": int(doc.get("orders_count", 0)),
        "units_sold": int(doc.get("units_sold", 0)),
        "revenue": str((Decimal(int(doc.get("revenue_cents", 0))) / 100).quantize(CENT)),
        "review_count": count,
        "average_rating": average_rating(sum(r * ratings[str(r)] for r in RATINGS), count),
        "ratings": ratings,
    }
