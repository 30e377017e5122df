"""Every process of the shop, by the streams it follows: what the event table's second
stream reader runs for a record.

The event stream serves two readers at most, and both are taken (the projector, this one;
why two: docs/architecture.md): a new process joins this reader, with its streams added to
the reader's FilterCriteria (template.yaml), instead of becoming a third reader."""

from __future__ import annotations

from collections.abc import Callable

from domain.identity.process import UserMail
from domain.identity.user import User
from domain.ordering.order import Order
from domain.ordering.process import OrderProcess
from event_sourcing.process import Processes

ORDER_STREAMS = f"{Order.stream_prefix}-"
USER_STREAMS = f"{User.stream_prefix}-"


def processes(orders: Callable[[], OrderProcess], users: Callable[[], UserMail]) -> Processes:
    """The shop's processes, by the streams they follow."""
    return Processes({ORDER_STREAMS: orders, USER_STREAMS: users})
