"""Every process of the shop, by the streams it follows: what the event table's second
stream reader runs for a record.

The event stream serves two readers at most, and both are taken (the projector, this one;
why two: docs/architecture.md): a new process joins this reader, with its streams added to
the reader's FilterCriteria (template.yaml), instead of becoming a third reader."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.identity.process import UserMail
from domain.identity.user import User
from domain.ordering.order import Order
from domain.ordering.process import OrderProcess

ORDER_STREAMS = f"{Order.stream_prefix}-"
USER_STREAMS = f"{User.stream_prefix}-"


class Process(Protocol):
    def handle(
        self,
        aggregate_id: str,
        event_version: int,
        /,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> object | None:
        """Do the next step the aggregate's state calls for; answers it (None: nothing)."""


class Processes:
    def __init__(self, orders: Callable[[], OrderProcess], users: Callable[[], UserMail]) -> None:
        self._by_prefix: dict[str, Callable[[], Process]] = {
            ORDER_STREAMS: orders,
            USER_STREAMS: users,
        }

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(self._by_prefix)

    def handle(
        self,
        stream_id: str,
        event_version: int,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> str | None:
        """Run the process `stream_id` belongs to; answers the step done, if any."""
        for prefix, process in self._by_prefix.items():
            if stream_id.startswith(prefix):
                step = process().handle(
                    stream_id.removeprefix(prefix),
                    event_version,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                )
                return None if step is None else str(step)
        raise ValueError(f"no process follows stream {stream_id!r}: it follows {self.prefixes}")
