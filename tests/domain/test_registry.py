"""The event type registry and upcasting of old schema versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from event_sourcing.events import DomainEvent, EventRegistry, UnknownEventType
from event_sourcing.testing.builders import recorded


def make_registry() -> tuple[EventRegistry, type[DomainEvent]]:
    events = EventRegistry()

    @events.event
    @dataclass(frozen=True)
    class PriceSet(DomainEvent):
        schema_version = 3
        price: Decimal
        currency: str
        at: datetime

    @events.upcaster("PriceSet", 1)
    def cents_to_decimal(data: dict[str, Any]) -> dict[str, Any]:
        return {"price": str(Decimal(data.pop("cents")) / 100), **data}

    @events.upcaster("PriceSet", 2)
    def add_currency(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "currency": "EUR"}

    return events, PriceSet


def test_an_event_round_trips_with_money_and_time_exact() -> None:
    events, price_set = make_registry()
    event = price_set(Decimal("19.99"), "EUR", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))  # type: ignore[call-arg]
    type_name, version, data = events.encode(event)
    assert (type_name, version) == ("PriceSet", 3)
    assert data["price"] == "19.99"
    assert events.decode(recorded("p", 1, type_name, data, schema_version=version)) == event


def test_old_schema_versions_are_upcast_on_read() -> None:
    events, price_set = make_registry()
    old = recorded("p", 1, "PriceSet", {"cents": 1999, "at": "2026-01-02T03:04:05Z"})
    decoded = events.decode(old)
    assert isinstance(decoded, price_set)
    assert decoded.price == Decimal("19.99")  # type: ignore[attr-defined]
    assert decoded.currency == "EUR"  # type: ignore[attr-defined]


def test_a_missing_upcaster_says_which_one_to_write() -> None:
    events, _ = make_registry()
    events._upcasters.pop(("PriceSet", 2))
    with pytest.raises(ValueError, match=r"register an upcaster for \('PriceSet', 2\)"):
        events.decode(recorded("p", 1, "PriceSet", {"cents": 1, "at": "2026-01-01T00:00:00Z"}))


def test_an_event_from_newer_code_is_refused_clearly() -> None:
    events, _ = make_registry()
    with pytest.raises(ValueError, match="newer than this code"):
        events.decode(recorded("p", 1, "PriceSet", {}, schema_version=4))


def test_an_unknown_type_is_named() -> None:
    with pytest.raises(UnknownEventType, match="Nope"):
        EventRegistry().decode(recorded("p", 1, "Nope"))


def test_one_name_cannot_be_registered_for_two_classes() -> None:
    events = EventRegistry()

    @events.event
    @dataclass(frozen=True)
    class Same(DomainEvent):
        pass

    with pytest.raises(ValueError, match="twice"):

        @events.event
        @dataclass(frozen=True)
        class Same(DomainEvent):  # type: ignore[no-redef]
            pass
