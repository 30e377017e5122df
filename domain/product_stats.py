"""Each product's sales and ratings (the seed's `GetProductStatsQuery`): a projection of
orders and reviews, outside both contexts because it reads both.

An order counts once it is confirmed (orders, units, revenue of its lines), and no more if
it is cancelled after that; an order cancelled before it was confirmed never counted.
OrderConfirmed names no lines, so the projection keeps each order's state in a document of
its own, applied with the Order aggregate's own appliers (it cannot drift from the
domain's rules). The counts are `Increment`s: orders and reviews of one product arrive on
many streams, in any order between them, and additions commute."""

from __future__ import annotations

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


def stats_key(product_id: str) -> ViewKey:
    return ViewKey(f"product#{product_id}", "stats")


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
            return _review(event)
        kind, _, order_id = recorded.stream_id.partition("-")
        if kind == Order.stream_prefix:
            return _order(order_id, event, views)
        return []


def _review(event: ReviewPosted) -> list[Change]:
    counts = {f"rating_{event.rating}": 1, "review_count": 1}
    if event.previous_rating is not None:
        counts["review_count"] = 0
        counts[f"rating_{event.previous_rating}"] = (
            counts.get(f"rating_{event.previous_rating}", 0) - 1
        )
    return [Increment(stats_key(event.product_id), counts)]


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
        changes += _sales(after, sign=1)
    elif before.status is OrderStatus.CONFIRMED and after.status is OrderStatus.CANCELLED:
        changes += _sales(before, sign=-1)
    return changes


def _sales(order: OrderState, *, sign: int) -> list[Change]:
    """The order's lines, added to (or taken from) their products' counts."""
    return [
        Increment(
            stats_key(line.product_id),
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


def product_stats(views: ViewReader, product_id: str) -> dict[str, Any]:
    """The product's stats as the API answers them (zeros before any order or review)."""
    doc = views.get(stats_key(product_id)) or {}
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
