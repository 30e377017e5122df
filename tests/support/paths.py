"""Which files of ours a request enters, and what it asks of DynamoDB: measured, not told.

`entered` traces every Python call made while a block runs and keeps the files of the
project's deployed packages whose code ran; `Requests` counts DynamoDB requests per
table and operation through botocore's event hooks."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ("event_sourcing", "domain", "infra", "functions")


@contextmanager
def entered() -> Iterator[list[str]]:
    """The files (relative to the checkout, in first-entered order) of the deployed
    packages whose code runs inside the block."""
    seen: dict[str, None] = {}
    prefixes = tuple(str(ROOT / package) + "/" for package in DEPLOYED)

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_code.co_filename
            if name.startswith(prefixes) and name not in seen:
                seen[name] = None

    files: list[str] = []
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield files
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        files.extend(str(Path(name).relative_to(ROOT)) for name in seen)


class Requests:
    """DynamoDB requests per (table, operation), from the moment it is attached."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        client.meta.events.register("provide-client-params.dynamodb.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        tables = {params["TableName"]} if "TableName" in params else set()
        for item in params.get("TransactItems", ()):
            tables |= {part["TableName"] for part in item.values()}
        tables |= set(params.get("RequestItems", ()))
        for table in tables or {"-"}:
            self.counts[(table, model.name)] += 1

    def on(self, table: str) -> Counter[str]:
        return Counter({op: n for (t, op), n in self.counts.items() if t == table})
