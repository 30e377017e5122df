"""Opaque pagination cursors: the last key of a page, as URL-safe base64 JSON.

A cursor is checked on the way back in: it must decode, and name the same collection (or
listing) as the query it continues. A forged one is an `InvalidCursor` (a 400), never a
database error; a well-formed one can only move within the same result set the caller may
read anyway."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from event_sourcing.views import InvalidCursor

MAX_CURSOR_LENGTH = 2048


def seal(position: dict[str, Any]) -> str:
    body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def open_(cursor: str, *, expect: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """The position in `cursor`; its attributes must be exactly `keys` and agree with `expect`."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("The cursor is too long to be one of ours.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError) as bad:
        raise InvalidCursor("The cursor is malformed: pass next_cursor back as it was.") from bad
    if (
        not isinstance(position, dict)
        or set(position) != keys
        or any(position.get(k) != v for k, v in expect.items())
        or not all(isinstance(v, str) for v in position.values())
    ):
        raise InvalidCursor("The cursor does not belong to this query.")
    return position
