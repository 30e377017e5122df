"""A product's sales and ratings are counted in STATS_SHARDS documents of their own
partitions, summed on read, so a flash sale's confirmed orders spread their increments;
the one document the previous release counted in is summed too (issue #20, items 2, 8)."""

from __future__ import annotations

from domain.product_stats import STATS_SHARDS, product_stats, stats_key, stats_shard_key
from event_sourcing.testing.memory import InMemoryViewStore
from event_sourcing.views import Increment


def test_orders_of_one_product_spread_over_every_shard() -> None:
    keys = {stats_shard_key("p1", f"order-{n}") for n in range(100)}
    assert len(keys) == STATS_SHARDS
    assert len({key.collection for key in keys}) == STATS_SHARDS  # a partition each
    assert stats_key("p1") not in keys


def test_the_counts_are_the_sum_of_the_shards_and_of_the_previous_releases_document() -> None:
    views = InMemoryViewStore()
    views.commit(
        "s",
        from_version=0,
        to_version=1,
        changes=[
            # as the previous release counted: one document
            Increment(stats_key("p1"), {"orders_count": 2, "units_sold": 3, "rating_5": 1}),
            Increment(stats_key("p1"), {"review_count": 1, "revenue_cents": 1000}),
            Increment(stats_shard_key("p1", "order-a"), {"orders_count": 1, "units_sold": 1}),
            Increment(stats_shard_key("p1", "order-b"), {"revenue_cents": 250}),
            Increment(stats_shard_key("p1", "review-x"), {"review_count": 1, "rating_3": 1}),
        ],
    )
    stats = product_stats(views, "p1")
    assert (stats["orders_count"], stats["units_sold"], stats["revenue"]) == (3, 4, "12.50")
    assert (stats["review_count"], stats["ratings"]["5"], stats["ratings"]["3"]) == (2, 1, 1)
    assert product_stats(views, "nothing")["orders_count"] == 0
