"""The catalogue's read model, beyond the battery every projection passes
(test_projections.py): its history covers every catalogue event, and its counts and
averages are what the commands imply."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.functions.histories import (
    CatalogueHistory,
    Fresh,
    World,
    catalogue_history,
    deliver,
    fresh_views,
    stream_of,
    world_of,
)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield from world_of(catalogue_history)


@pytest.fixture
def fresh(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fresh]:
    yield from fresh_views(world, monkeypatch)


def catalogue(fresh: Fresh) -> CatalogueHistory:
    assert isinstance(fresh.history, CatalogueHistory)
    return fresh.history


def test_the_history_covers_every_catalogue_stream_and_event(world: World) -> None:
    types = {r["dynamodb"]["NewImage"]["type"]["S"] for r in world.history.records}
    assert {
        "CategoryCreated",
        "ProductCreated",
        "ProductApproved",
        "ProductActivated",
        "ProductDeactivated",
        "ProductPriceChanged",
        "ReviewPosted",
    } <= types
    streams = {stream_of(r).split("-")[0] for r in world.history.records}
    assert {"category", "product", "review"} <= streams


def test_counts_and_averages_answer_what_the_commands_imply(fresh: Fresh) -> None:
    history = catalogue(fresh)
    assert deliver(history.records) == []
    books, gadgets = history.categories["Books"], history.categories["Gadgets"]
    assert (history.active_count(books), history.active_count(gadgets)) == (2, 2)
    clean_code = history.products["Clean Code"]
    # ada's 4 was replaced by her 5: counted once, with the new rating.
    assert history.expected_rating(clean_code) == (Decimal("3.50"), 2)
    history.assert_counts_and_ratings(fresh)


def test_a_product_held_back_by_a_poison_record_still_counts_its_reviews(fresh: Fresh) -> None:
    history = catalogue(fresh)
    poisoned = copy.deepcopy(history.records)
    poisoned[history.poisoned()]["dynamodb"]["NewImage"]["data"] = {"S": "{not json"}
    assert deliver(poisoned)
    stuck = fresh.get(f"/products/{history.products['Clean Code']}")
    assert (stuck["version"], stuck["is_active"]) == (1, False)
    assert (stuck["review_count"], stuck["average_rating"]) == (2, 3.5)
