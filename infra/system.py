"""The real clock and identifiers."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from event_sourcing.clock import Clock, IdGenerator

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class UlidIds(IdGenerator):
    """26-character ULIDs (lower case): 48 bits of milliseconds, then 80 random bits, so ids
    sort by creation time."""

    def new_id(self) -> str:
        value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))
