"""The sample events of events/ and the function the template sends each to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devstack.stack import DEFAULT_TEMPLATE
from tests.support.template import http_routes

EVENTS = DEFAULT_TEMPLATE.parent / "events"
STREAM_READERS = {
    "stream-batch.json": "ProjectorFunction",
    "order-stream-batch.json": "OrderProcessFunction",
    "outside-calls.json": "OutsideCallsFunction",  # its queue's reader
}


def samples() -> list[Path]:
    return sorted(EVENTS.glob("*.json"))


def event(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def function_of(path: Path) -> str:
    """The function the template sends this sample to (its route, or its stream reader)."""
    if path.name in STREAM_READERS:
        return STREAM_READERS[path.name]
    sample = event(path)
    if sample.get("type") == "REQUEST":
        return "AuthorizerFunction"
    return next(r.function for r in http_routes() if r.key == sample["routeKey"])
