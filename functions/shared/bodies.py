"""What every route checks of a request body before anything reads it: JSON, UTF-8, within
64 KiB, not nested past reason, numbers that are numbers. Each refusal is a 4xx in the
contract's error shape, never a 500 from a decoder deep inside a route."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any

from functions.shared.errors import error_response

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]


class _Unreadable(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Unreadable(f"the number {text[:20]} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise _Unreadable(f"{name} is not JSON")


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(current, dict):
            pending.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list):
            pending.extend((v, depth + 1) for v in current)
    return deepest


def _refusal(status: int, code: str, message: str) -> dict[str, Any]:
    response = error_response(status, code, message)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }


def refusal(event: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(a 4xx answer, or None) and the event with its body as UTF-8 text."""
    body = event.get("body")
    if body is None or body == "":
        return None, event
    try:
        raw = (
            base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        )
    except (binascii.Error, ValueError):
        return _refusal(400, "malformed_json", "The request body is not valid JSON."), event
    if len(raw) > MAX_BODY_BYTES:
        return _refusal(
            413, "payload_too_large", f"The request body is over {MAX_BODY_BYTES // 1024} KiB."
        ), event
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        return _refusal(
            415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
        ), event
    try:
        text = raw.decode("utf-8")
        parsed = json.loads(text, parse_float=_finite, parse_constant=_no_constants)
        if _depth(parsed) > MAX_DEPTH:
            raise _Unreadable("nested too deeply")
    except UnicodeDecodeError:
        return _refusal(400, "malformed_json", "The request body is not UTF-8 text."), event
    except (ValueError, RecursionError):
        return _refusal(400, "malformed_json", "The request body is not valid JSON."), event
    return None, {**event, "body": text, "isBase64Encoded": False}


def readable_bodies(resolve: Resolve) -> Resolve:
    """`resolve`, for requests whose body (if any) is readable JSON; a 4xx for the rest."""

    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refused, readable = refusal(event)
        return refused if refused is not None else resolve(readable, context)

    return run
