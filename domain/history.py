"""How a stored event is shown in a history: what happened, when, who and why."""

from __future__ import annotations

from typing import Any

from domain.access import Caller
from event_sourcing.events import RecordedEvent, iso


def entry(event: RecordedEvent, caller: Caller | None) -> dict[str, Any]:
    """The event as `caller` may see it: its metadata (our correlation and causation ids,
    who did it) to admins only."""
    shown: dict[str, Any] = {
        "version": event.version,
        "type": event.type,
        "occurred_at": iso(event.occurred_at),
        "data": dict(event.data),
    }
    if caller is not None and caller.is_admin:
        shown["metadata"] = {
            "event_id": event.metadata.event_id,
            "correlation_id": event.metadata.correlation_id,
            "causation_id": event.metadata.causation_id,
            "user_id": event.metadata.user_id,
        }
    return shown
