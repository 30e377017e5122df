"""The right of access: everything the shop holds about one customer, as one document
(`GET /users/me/export`). It spans the bounded contexts, so it lives beside them, as the
processes do: the profile and the emails the user was sent (identity), their orders with
lines, states and the emails about them (ordering), their reviews with the comments they
wrote (catalogue, opened from the review streams: no view keeps a comment)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from domain.catalog.review import Review, review_id
from domain.catalog.views import customer_reviews
from domain.identity.user import PasswordResetMailed, User, WelcomeEmailSent
from domain.identity.views import profile, with_last_sign_in
from domain.ordering.views import PUBLIC, customer_orders
from event_sourcing.events import iso
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.views import Doc, Page, ViewReader

PAGE = 100
"""Entries read per request of a listing: an export reads every page."""


def export(
    user_id: str, repository: EventSourcedRepository, live: Callable[[str], ViewReader]
) -> dict[str, Any]:
    """Everything held about `user_id`: `live(projection)` reads a projection's views."""
    user = with_last_sign_in(profile(live("users"), user_id), repository.notes(User, user_id))
    emails = [_user_email(e.data, e.type) for e in repository.history(User, user_id)]
    orders: list[Doc] = []
    for doc in _every(
        lambda cursor: live("ordering").listing(customer_orders(user_id), limit=PAGE, cursor=cursor)
    ):
        orders.append({k: doc[k] for k in PUBLIC})
        emails += _order_emails(doc)
    rated = list(
        _every(
            lambda cursor: live("catalog").query(
                customer_reviews(user_id), limit=PAGE, cursor=cursor
            )
        )
    )
    written = repository.load_many(Review, [review_id(r["product_id"], user_id) for r in rated])
    reviews = [
        {
            "product_id": review.state.product_id,
            "rating": review.state.rating,
            "comment": review.state.comment,
            "posted_at": iso(review.state.posted_at) if review.state.posted_at else None,
        }
        for review in written.values()
        if review.exists
    ]
    return {
        "profile": {k: v for k, v in user.items() if k != "version"},
        "orders": orders,
        "reviews": reviews,
        "emails": [email for email in emails if email is not None],
    }


def _every(page: Callable[[str | None], Page]) -> Iterator[Doc]:
    cursor: str | None = None
    while True:
        read = page(cursor)
        yield from read.items
        if read.cursor is None:
            return
        cursor = read.cursor


def _user_email(data: Mapping[str, Any], type_: str) -> dict[str, Any] | None:
    if type_ == WelcomeEmailSent.event_type:
        return {"kind": "welcome", "message_id": data["message_id"], "sent_at": data["sent_at"]}
    if type_ == PasswordResetMailed.event_type:
        return {"kind": "password_reset", "message_id": data["message_id"]}
    return None


def _order_emails(doc: Doc) -> list[dict[str, Any]]:
    state = doc.get("state") or {}
    sent = (("order_confirmed", "confirmation"), ("order_cancelled", "cancellation"))
    return [
        {
            "kind": kind,
            "order_id": doc["id"],
            "message_id": state[f"{field}_id"],
            "sent_at": state.get(f"{field}_sent_at"),
        }
        for kind, field in sent
        if state.get(f"{field}_id")
    ]
