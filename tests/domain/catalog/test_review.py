"""Reviews: one per customer and product, a second one replaces the first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import service as catalog
from domain.catalog.category import Category
from domain.catalog.commands import ChangePrice, DeactivateProduct, PostReview
from domain.catalog.review import Review, ReviewPosted
from domain.errors import InvalidValue, NotFound, Unauthenticated
from event_sourcing.errors import VersionMismatch
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.testing.memory import ManualClock
from tests.domain.catalog.conftest import (
    ADMIN,
    ANON,
    CUSTOMER,
    OTHER_CUSTOMER,
    active_product,
    new_product,
)


def posted(repository: EventSourcedRepository, review: Review) -> list[ReviewPosted]:
    events = [repository.events.decode(r) for r in repository.history(Review, review.id)]
    assert all(isinstance(e, ReviewPosted) for e in events)
    return [e for e in events if isinstance(e, ReviewPosted)]


def test_a_customer_reviews_an_active_product(
    repository: EventSourcedRepository,
    category: Category,
    clock: ManualClock,
) -> None:
    product = active_product(repository, category)
    review = catalog.review(repository, PostReview(product.id, 4, "  Digs well. "), CUSTOMER)
    assert review.id == f"{product.id}.cust1"
    assert review.stream_id == f"review-{product.id}.cust1"
    assert review.version == 1
    assert posted(repository, review) == [
        ReviewPosted(product.id, "cust1", 4, "Digs well.", None, clock.now())
    ]
    history = repository.history(Review, review.id)
    assert history[0].metadata.user_id == "cust1"


def test_a_second_review_replaces_the_first_and_names_its_rating(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    catalog.review(repository, PostReview(product.id, 2, "Meh."), CUSTOMER)
    review = catalog.review(repository, PostReview(product.id, 5, "Grew on me."), CUSTOMER)
    assert review.version == 2
    assert (review.state.rating, review.state.comment) == (5, "Grew on me.")
    assert [(e.rating, e.previous_rating) for e in posted(repository, review)] == [
        (2, None),
        (5, 2),
    ]


def test_reviews_of_two_customers_are_separate_streams(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    mine = catalog.review(repository, PostReview(product.id, 5), CUSTOMER)
    theirs = catalog.review(repository, PostReview(product.id, 1), OTHER_CUSTOMER)
    assert mine.stream_id != theirs.stream_id
    assert (mine.version, theirs.version) == (1, 1)
    assert theirs.pending == []


def test_a_review_does_not_touch_the_products_stream(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    catalog.review(repository, PostReview(product.id, 5), CUSTOMER)
    assert catalog.load_product(repository, product.id).version == product.version


@pytest.mark.parametrize("rating", [0, 6, -1, True])
def test_a_rating_is_a_whole_number_from_1_to_5(
    repository: EventSourcedRepository, category: Category, rating: int
) -> None:
    product = active_product(repository, category)
    with pytest.raises(InvalidValue) as refused:
        catalog.review(repository, PostReview(product.id, rating), CUSTOMER)
    assert refused.value.code == "rating_out_of_range"
    assert refused.value.details[0].field == "rating"


@pytest.mark.parametrize("rating", [1, 5])
def test_ratings_1_and_5_are_fine(
    repository: EventSourcedRepository, category: Category, rating: int
) -> None:
    product = active_product(repository, category)
    assert (
        catalog.review(repository, PostReview(product.id, rating), CUSTOMER).state.rating == rating
    )


def test_a_comment_has_at_most_2000_characters(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    with pytest.raises(InvalidValue) as refused:
        catalog.review(repository, PostReview(product.id, 3, "c" * 2001), CUSTOMER)
    assert refused.value.code == "comment_too_long"
    assert refused.value.details[0].field == "comment"
    kept = catalog.review(repository, PostReview(product.id, 3, " " + "c" * 2000 + " "), CUSTOMER)
    assert kept.state.comment == "c" * 2000


def test_only_a_signed_in_caller_reviews(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    with pytest.raises(Unauthenticated):
        catalog.review(repository, PostReview(product.id, 5), ANON)


def test_an_admin_may_review_too(repository: EventSourcedRepository, category: Category) -> None:
    product = active_product(repository, category)
    assert (
        catalog.review(repository, PostReview(product.id, 5), ADMIN).state.customer_id == "admin1"
    )


def test_an_inactive_product_cannot_be_reviewed(
    repository: EventSourcedRepository, category: Category
) -> None:
    fresh = new_product(repository, category)
    with pytest.raises(NotFound) as hidden:
        catalog.review(repository, PostReview(fresh.id, 5), CUSTOMER)
    assert hidden.value.code == "product_not_found"
    retired = active_product(repository, category, name="Rake")
    catalog.deactivate(repository, DeactivateProduct(retired.id, "discontinued"), ADMIN)
    with pytest.raises(NotFound):
        catalog.review(repository, PostReview(retired.id, 5), CUSTOMER)


def test_a_missing_product_cannot_be_reviewed(repository: EventSourcedRepository) -> None:
    with pytest.raises(NotFound):
        catalog.review(repository, PostReview("ghost", 5), CUSTOMER)


def test_the_expected_version_is_the_reviews_own(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    catalog.change_price(
        repository, ChangePrice(product.id, Decimal("90.00")), ADMIN
    )  # product at v3
    first = catalog.review(repository, PostReview(product.id, 3), CUSTOMER, expected_version=0)
    assert first.version == 1
    with pytest.raises(VersionMismatch) as stale:
        catalog.review(repository, PostReview(product.id, 4), CUSTOMER, expected_version=0)
    assert (stale.value.expected, stale.value.actual) == (0, 1)
    assert (
        catalog.review(repository, PostReview(product.id, 4), CUSTOMER, expected_version=1).version
        == 2
    )


def test_replaying_a_review_rebuilds_its_state(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    catalog.review(repository, PostReview(product.id, 2, "first"), CUSTOMER)
    review = catalog.review(repository, PostReview(product.id, 4, "second"), CUSTOMER)
    replayed = Review.rebuild(review.id, posted(repository, review))
    assert replayed.state == review.state
    restored = Review.restore(review.id, review.version, review.snapshot_state())
    assert restored.state == review.state
