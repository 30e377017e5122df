"""The Review aggregate: one customer's review of one product.

One stream per (product, customer), so reviews never contend with each other nor with
the admin's commands on the product. A second review by the same customer replaces
the first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain.catalog.text import check_text
from domain.errors import Detail, InvalidValue
from event_sourcing.events import DomainEvent, registry
from event_sourcing.repository import Aggregate, applies

MIN_RATING = 1
MAX_RATING = 5
MAX_COMMENT = 2000


# -- Events: what a `review-<product>.<customer>` stream records. Stored events name these
# classes and fields (the registry maps type names to classes): change them only with a
# new `schema_version` and an upcaster.


@registry.event
@dataclass(frozen=True)
class ReviewPosted(DomainEvent):
    personal: ClassVar[tuple[str, ...]] = ("comment",)
    subject: ClassVar[str | None] = "customer_id"
    product_id: str
    customer_id: str
    rating: int
    comment: str
    previous_rating: int | None
    """The rating this one replaces, if the customer had reviewed the product before:
    a projection subtracts it to keep its sum of ratings exact."""
    posted_at: datetime


# -- State, decisions and evolution


@dataclass(frozen=True)
class ReviewState:
    personal: ClassVar[tuple[str, ...]] = ("comment",)
    subject: ClassVar[str | None] = "customer_id"
    product_id: str = ""
    customer_id: str = ""
    rating: int | None = None
    comment: str = ""
    posted_at: datetime | None = None


def review_id(product_id: str, customer_id: str) -> str:
    return f"{product_id}.{customer_id}"


def check_rating(rating: int) -> int:
    if (
        isinstance(rating, bool)
        or not isinstance(rating, int)
        or not (MIN_RATING <= rating <= MAX_RATING)
    ):
        raise InvalidValue(
            f"The rating must be a whole number from {MIN_RATING} to {MAX_RATING}.",
            code="rating_out_of_range",
            details=[Detail("rating", f"an integer from {MIN_RATING} to {MAX_RATING}")],
        )
    return rating


class Review(Aggregate[ReviewState]):
    stream_prefix = "review"
    state_type = ReviewState

    @classmethod
    def of(cls, product_id: str, customer_id: str) -> Review:
        """The blank review of that product by that customer (before it is loaded)."""
        return cls.blank(review_id(product_id, customer_id))

    def post(
        self, product_id: str, customer_id: str, rating: int, comment: str, now: datetime
    ) -> None:
        """Post the review, or replace the customer's earlier one."""
        if self.id != review_id(product_id, customer_id):
            raise ValueError(f"review {self.id!r} is not {product_id!r} by {customer_id!r}")
        rating = check_rating(rating)
        comment = check_text(
            comment, field="comment", code="comment_too_long", max_length=MAX_COMMENT
        )
        self._record(
            ReviewPosted(
                product_id=product_id,
                customer_id=customer_id,
                rating=rating,
                comment=comment,
                previous_rating=self.state.rating,
                posted_at=now,
            )
        )

    @applies(ReviewPosted)
    def _posted(self, state: ReviewState, event: ReviewPosted) -> ReviewState:
        return replace(
            state,
            product_id=event.product_id,
            customer_id=event.customer_id,
            rating=event.rating,
            comment=event.comment,
            posted_at=event.posted_at,
        )
