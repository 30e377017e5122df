"""Small builders for test data."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from event_sourcing.events import Metadata, RecordedEvent
from event_sourcing.repository import EventStore, StreamTail

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_decisions = itertools.count(1)


def recorded(
    stream_id: str,
    version: int,
    type: str = "Noted",
    data: dict[str, Any] | None = None,
    *,
    schema_version: int = 1,
    user_id: str | None = "u1",
) -> RecordedEvent:
    return RecordedEvent(
        stream_id=stream_id,
        version=version,
        type=type,
        schema_version=schema_version,
        occurred_at=T0 + timedelta(seconds=version),
        data=data if data is not None else {"n": version},
        metadata=Metadata(
            # unique, as each decision's events are: the same id means the same write
            event_id=f"{stream_id}/{version}/{next(_decisions)}",
            correlation_id="corr-1",
            causation_id="cause-1",
            user_id=user_id,
        ),
    )


def events(stream_id: str, first: int, last: int, type: str = "Noted") -> list[RecordedEvent]:
    return [recorded(stream_id, v, type) for v in range(first, last + 1)]


def tails_read(store: EventStore) -> list[str]:
    """The streams whose tail `store` reads from now on, in order (a command's loads)."""
    read: list[str] = []
    tail = store.tail

    def counted(stream_id: str, *, window: int) -> StreamTail:
        read.append(stream_id)
        return tail(stream_id, window=window)

    store.tail = counted  # type: ignore[method-assign]
    return read
