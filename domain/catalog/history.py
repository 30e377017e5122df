"""A product's past: its events, and its state as of a version or a time (admins only).

Time travel replays the stored events with the same aggregate code that serves commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.access import Caller, require_admin
from domain.catalog.product import Product
from domain.errors import Detail, InvalidValue, NotFound
from domain.history import entry
from event_sourcing.events import RecordedEvent, iso
from event_sourcing.repository import EventSourcedRepository


def history(
    repository: EventSourcedRepository, caller: Caller | None, product_id: str
) -> list[dict[str, Any]]:
    require_admin(caller)
    return [entry(e, caller) for e in _events(repository, product_id)]


def as_of(
    repository: EventSourcedRepository,
    caller: Caller | None,
    product_id: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The product rebuilt from its events up to `version`, or up to time `at`."""
    require_admin(caller)
    if (version is None) == (at is None):
        raise InvalidValue(
            "Name exactly one of ?version=N or ?at=<ISO 8601 time>.",
            code="as_of_needs_one_point",
            details=[Detail("version", "or at, not both")],
        )
    events = _events(repository, product_id)
    if version is not None:
        kept = [e for e in events if e.version <= version]
    else:
        moment = at
        kept = [e for e in events if moment is not None and e.occurred_at <= moment]
    if not kept:
        raise NotFound("The product did not exist yet at that point.", code="not_yet_created")
    product = Product.rebuild(product_id, (repository.events.decode(e) for e in kept))
    state = product.state
    return {
        "id": product_id,
        "version": product.version,
        "as_of": iso(kept[-1].occurred_at),
        "name": state.name,
        "description": state.description,
        "base_price": str(state.base_price),
        "price": str(state.price),
        "category_id": state.category_id,
        "is_active": state.is_active,
        "requires_approval": state.requires_approval,
        "created_at": iso(state.created_at) if state.created_at else None,
        "price_updated_at": iso(state.price_updated_at) if state.price_updated_at else None,
    }


def _events(repository: EventSourcedRepository, product_id: str) -> list[RecordedEvent]:
    events = repository.history(Product, product_id)
    if not events:
        raise NotFound("No such product.", code="product_not_found")
    return events
