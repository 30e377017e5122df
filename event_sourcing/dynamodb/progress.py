"""What each stream reader last did, one item per reader (pk "reader#<name>"), in a table
it already writes (the projector: the views table; the order process: its idempotency
table): `eventshop-admin status` and the console read it. One PutItem per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_ERRORS = 20
"""The most recent failures kept per reader (one per stream)."""


@dataclass(frozen=True)
class Failure:
    stream_id: str
    version: int
    error: str
    at: str


@dataclass(frozen=True)
class ReaderProgress:
    reader: str
    batch_at: str | None = None
    """When the last batch ended (ISO 8601 UTC)."""
    newest_event_at: str | None = None
    """The time of the newest event applied (its `occurred_at`)."""
    sequence_number: str | None = None
    """The stream record up to which the reader has applied everything."""
    held_back: int = 0
    """Records of the last batch reported failed (Lambda retries them)."""
    applied: int = 0
    errors: Mapping[str, Failure] = field(default_factory=dict)


def reader_key(reader: str) -> dict[str, Any]:
    """The item's key in either table: the views table's (pk, sk) or the idempotency
    table's (id)."""
    return {"pk": {"S": f"reader#{reader}"}, "sk": {"S": "#"}}


class ProgressLog:
    def __init__(self, client: DynamoDBClient, table: str, *, key: str = "pk") -> None:
        self.client = client
        self.table = table
        self.key = key

    def _key(self, reader: str) -> dict[str, Any]:
        if self.key == "id":
            return {"id": {"S": f"reader#{reader}"}}
        return reader_key(reader)

    def read(self, reader: str) -> ReaderProgress:
        item = self.client.get_item(
            TableName=self.table, Key=self._key(reader), ConsistentRead=True
        ).get("Item")
        if not item:
            return ReaderProgress(reader)

        def text(name: str) -> str | None:
            return str(item[name]["S"]) if name in item else None

        errors = {
            stream: Failure(
                stream, int(v["M"]["version"]["N"]), v["M"]["error"]["S"], v["M"]["at"]["S"]
            )
            for stream, v in item.get("errors", {}).get("M", {}).items()
        }
        return ReaderProgress(
            reader,
            batch_at=text("batch_at"),
            newest_event_at=text("newest_event_at"),
            sequence_number=text("sequence_number"),
            held_back=int(item.get("held_back", {}).get("N", 0)),
            applied=int(item.get("applied", {}).get("N", 0)),
            errors=errors,
        )

    def record(
        self,
        reader: str,
        *,
        at: datetime,
        newest_event_at: str | None,
        sequence_number: str | None,
        held_back: int,
        applied: int,
        failures: Sequence[Failure],
    ) -> None:
        """The batch just done; each failure replaces its stream's older one. Read, then
        written: two batches of one reader ending at once may lose one's count (status
        only)."""
        before = self.read(reader)
        errors = dict(before.errors)
        for failure in failures:
            errors[failure.stream_id] = failure
        newest = sorted(errors.values(), key=lambda f: f.at)[-MAX_ERRORS:]
        item: dict[str, Any] = {
            **self._key(reader),
            "batch_at": {"S": at.isoformat()},
            "held_back": {"N": str(held_back)},
            "applied": {"N": str(before.applied + applied)},
            "errors": {
                "M": {
                    f.stream_id: {
                        "M": {
                            "version": {"N": str(f.version)},
                            "error": {"S": f.error[:500]},
                            "at": {"S": f.at},
                        }
                    }
                    for f in newest
                }
            },
        }
        kept = {
            "newest_event_at": newest_event_at or before.newest_event_at,
            "sequence_number": sequence_number or before.sequence_number,
        }
        item.update({name: {"S": value} for name, value in kept.items() if value})
        self.client.put_item(TableName=self.table, Item=item)
