"""What each stream reader last did, in a table it already writes (the projector: the views
table; the order process: its idempotency table): `eventshop-admin status` and the console
read it. One UpdateItem per batch.

Every batch of a reader, on every stream shard, would write the same item: one partition
(1,000 write units/s) for the shop's whole batch rate. So a reader's progress is `SLOTS`
items (pk "reader#<name>" for slot 0, as the previous release wrote it, and
"reader#<name>#<slot>"), a batch writes the slot its last record's sequence number hashes
to, and a read merges them (a GetItem each): the latest batch's time, position and
held-back records, the sum of the applied, each stream's newest failure.

A Lambda record names no shard, so a batch cannot say where it ended per shard; each slot
keeps the sequence numbers its newest MAX_POSITIONS batches ended at (`positions`), and the
operator's stream reader (infra/readers.py) finds each in its shard."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_ERRORS = 20
"""The most recent failures kept per reader (one per stream)."""
SLOTS = 16
"""The items one reader's progress is spread over."""
MAX_POSITIONS = 8
"""The newest batch ends kept per slot (128 per reader): about 0.5 KB of the item, so a
batch's write stays about 1 write unit."""


_EMAIL = re.compile(r"[^\s@<>()\[\]'\",;:]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


@dataclass(frozen=True)
class Failure:
    stream_id: str
    version: int
    error: str
    at: str

    @classmethod
    def of(cls, stream_id: str, version: int, error: Exception, at: datetime) -> Failure:
        """The failure of `error`, its message without any email address in it (a
        provider's refusal may name one): progress items are kept past an erasure."""
        text = _EMAIL.sub("<email>", f"{type(error).__name__}: {error}")
        return cls(stream_id, version, text, at.isoformat())


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
    positions: Mapping[str, str] = field(default_factory=dict)
    """The sequence number each of the newest kept batches ended at (its last applied
    record), and when that batch ended: at most one shard's position each."""
    positions_dropped: bool = False
    """Older batch ends were dropped to keep MAX_POSITIONS per slot: a shard none of the
    kept ones is in may have had its last batch before the oldest kept."""


def reader_key(reader: str, slot: int = 0) -> dict[str, Any]:
    """The key of one slot's item in the views table (pk, sk); slot 0 is the previous
    release's one item."""
    return {"pk": {"S": _name(reader, slot)}, "sk": {"S": "#"}}


def _name(reader: str, slot: int) -> str:
    return f"reader#{reader}" if slot == 0 else f"reader#{reader}#{slot}"


def slot_of(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big") % SLOTS


class ProgressLog:
    def __init__(self, client: DynamoDBClient, table: str, *, key: str = "pk") -> None:
        self.client = client
        self.table = table
        self.key = key

    def _key(self, reader: str, slot: int = 0) -> dict[str, Any]:
        if self.key == "id":
            return {"id": {"S": _name(reader, slot)}}
        return reader_key(reader, slot)

    def read(self, reader: str) -> ReaderProgress:
        """Every slot's progress, merged: a GetItem each (an operator's read; the roles that
        read progress may GetItem, and 16 small reads cost 16 read units)."""
        slots = [self._read_slot(reader, slot) for slot in range(SLOTS)]
        return _merged(reader, [p for p in slots if p.batch_at is not None or p.errors])

    def _read_slot(self, reader: str, slot: int) -> ReaderProgress:
        item = self.client.get_item(
            TableName=self.table, Key=self._key(reader, slot), ConsistentRead=True
        ).get("Item")
        return self._progress(reader, item) if item else ReaderProgress(reader)

    def _progress(self, reader: str, item: dict[str, Any]) -> ReaderProgress:

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
            positions={n: v["S"] for n, v in item.get("positions", {}).get("M", {}).items()},
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
        """The batch just done, in its slot; each failure replaces its stream's older one.
        Read, then written: two batches of one reader ending at once in one slot may lose
        one's count (status only)."""
        slot = slot_of(sequence_number or at.isoformat())
        before = self._read_slot(reader, slot)
        errors = dict(before.errors)
        for failure in failures:
            errors[failure.stream_id] = failure
        newest = sorted(errors.values(), key=lambda f: f.at)[-MAX_ERRORS:]
        positions = dict(before.positions)
        if sequence_number:
            positions[sequence_number] = at.isoformat()
        ended = sorted(positions.items(), key=lambda p: p[1])[-MAX_POSITIONS:]
        item: dict[str, Any] = {
            **self._key(reader, slot),
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
            "positions": {"M": {number: {"S": when} for number, when in ended}},
        }
        # batches of several shards end in any order: the newest event is the newest of all
        kept = {
            "newest_event_at": max(
                filter(None, (newest_event_at, before.newest_event_at)), default=None
            ),
            "sequence_number": sequence_number or before.sequence_number,
        }
        item.update({name: {"S": value} for name, value in kept.items() if value})
        # An UpdateItem that SETs every field: the same item a PutItem would write, and a
        # reader's role that may not put documents still records its progress.
        key = self._key(reader, slot)
        fields = {name: value for name, value in item.items() if name not in key}
        names = {f"#a{i}": name for i, name in enumerate(fields)}
        self.client.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":a{i}": v for i, v in enumerate(fields.values())},
        )


def _merged(reader: str, slots: Sequence[ReaderProgress]) -> ReaderProgress:
    if not slots:
        return ReaderProgress(reader)
    latest = max(slots, key=lambda p: p.batch_at or "")
    errors: dict[str, Failure] = {}
    for progress in slots:
        for stream, failure in progress.errors.items():
            if stream not in errors or failure.at > errors[stream].at:
                errors[stream] = failure
    newest = sorted(errors.values(), key=lambda f: f.at)[-MAX_ERRORS:]
    times = [p.newest_event_at for p in slots if p.newest_event_at]
    return ReaderProgress(
        reader,
        batch_at=latest.batch_at,
        newest_event_at=max(times) if times else None,
        sequence_number=latest.sequence_number
        or next((p.sequence_number for p in slots if p.sequence_number), None),
        held_back=latest.held_back,
        applied=sum(p.applied for p in slots),
        errors={f.stream_id: f for f in newest},
        positions={n: when for p in slots for n, when in p.positions.items()},
        positions_dropped=any(len(p.positions) >= MAX_POSITIONS for p in slots),
    )
