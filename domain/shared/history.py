"""How a stored event is shown in a history: what happened, when, who and why."""

from __future__ import annotations

from typing import Any

from domain.shared.codec import iso
from domain.shared.events import RecordedEvent


def entry(event: RecordedEvent) -> dict[str, Any]:
    return {
        "version": event.version,
        "type": event.type,
        "occurred_at": iso(event.occurred_at),
        "data": dict(event.data),
        "metadata": {
            "event_id": event.metadata.event_id,
            "correlation_id": event.metadata.correlation_id,
            "causation_id": event.metadata.causation_id,
            "user_id": event.metadata.user_id,
        },
    }
