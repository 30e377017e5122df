"""The event table's item format, shared by the store and the stream projector.

    stream_id S (partition) | version N (sort) | kind S = "event"
    type S | schema_version N | occurred_at S (ISO 8601 UTC) | data S (JSON)
    metadata M {event_id, correlation_id, causation_id, user_id}
    snapshot M {schema N, state S (JSON)}   -- only on the event it was taken after
    published S (JSON)                      -- on the last event of an append of a stream
                                               that publishes: its published state then

A claim (a unique value) is an item of its own: stream_id = "claim#<namespace>#<value>",
version 0, kind "claim", owner S. So is a held key's count: stream_id =
"hold#<namespace>#<key>", version 0, kind "hold", holders N, retired BOOL (once retired).
A hold with a holder (what the repository writes) is one item per holder and key, so
holders of one key share no item: stream_id = "hold#<namespace>#<key>#<p>" (p: one of
HOLD_LINE_PARTITIONS, by the holder's hash, so a key's holders spread their writes over
partitions too), version = 1 + a 96-bit hash of the holder, kind "hold", holder S. The
key's item at version 0 then only marks it retiring (retiring S, a token, while a
retirement looks for holders) or retired.
So is a stream's published state: stream_id = "published#<stream>", version 0, kind
"published", state S (JSON), at N (the stream's version it was taken at), and the stream's
notes beside it, one attribute "note_<name>" S each (written alone, outside any append).
The stream readers' filters pass only kind "event".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from event_sourcing.codec import iso, parse_iso
from event_sourcing.events import Metadata, RecordedEvent, Snapshot

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = Mapping[str, AttributeValueTypeDef]
else:
    Item = Mapping[str, Any]

EVENT = "event"
CLAIM = "claim"
HOLD = "hold"
PUBLISHED = "published"
NOTE_PREFIX = "note_"


def claim_stream_id(namespace: str, value: str) -> str:
    return f"claim#{namespace}#{value}"


def hold_key(namespace: str, key: str) -> dict[str, Any]:
    return {"stream_id": {"S": f"hold#{namespace}#{key}"}, "version": {"N": "0"}}


HOLD_LINE_PARTITIONS = 8
"""Partitions a key's hold lines spread over. A retirement queries each (rare); at 500
takes per second of one key each gets ~63 transactional writes (126 of its 1,000 WCU/s)."""


def hold_line_partition(namespace: str, key: str, partition: int) -> str:
    return f"hold#{namespace}#{key}#{partition}"


def hold_line_key(namespace: str, key: str, holder: str) -> dict[str, Any]:
    digest = hashlib.sha256(holder.encode()).hexdigest()
    partition = int(digest[:8], 16) % HOLD_LINE_PARTITIONS
    return {
        "stream_id": {"S": hold_line_partition(namespace, key, partition)},
        "version": {"N": str(1 + int(digest[8:32], 16))},
    }


def published_key(stream_id: str) -> dict[str, Any]:
    return {"stream_id": {"S": f"{PUBLISHED}#{stream_id}"}, "version": {"N": "0"}}


def stored_json(value: Any) -> str:
    """How the table stores a JSON attribute (`data`, a snapshot's `state`, `published`)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def event_item(
    event: RecordedEvent,
    snapshot: Snapshot | None = None,
    published: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "event_id": {"S": event.metadata.event_id},
        "correlation_id": {"S": event.metadata.correlation_id},
        "causation_id": {"S": event.metadata.causation_id},
        "user_id": {"S": event.metadata.user_id} if event.metadata.user_id else {"NULL": True},
    }
    item: dict[str, Any] = {
        "stream_id": {"S": event.stream_id},
        "version": {"N": str(event.version)},
        "kind": {"S": EVENT},
        "type": {"S": event.type},
        "schema_version": {"N": str(event.schema_version)},
        "occurred_at": {"S": iso(event.occurred_at)},
        "data": {"S": stored_json(event.data)},
        "metadata": {"M": meta},
    }
    if snapshot is not None:
        if snapshot.version != event.version:
            raise ValueError("a snapshot is written in the item of the version it was taken at")
        item["snapshot"] = {
            "M": {
                "schema": {"N": str(snapshot.schema)},
                "state": {"S": stored_json(snapshot.state)},
            }
        }
    if published is not None:
        item["published"] = {"S": stored_json(published)}
    return item


def published_json(published: Mapping[str, Any]) -> str:
    return stored_json(published)


def claim_item(namespace: str, value: str, owner: str) -> dict[str, Any]:
    return {
        "stream_id": {"S": claim_stream_id(namespace, value)},
        "version": {"N": "0"},
        "kind": {"S": CLAIM},
        "owner": {"S": owner},
    }


def version_of(item: Item) -> int:
    return int(_scalar(item["version"], "N"))


def event_of(item: Item) -> RecordedEvent:
    """The event stored in `item` (a query result or a stream record's NewImage)."""
    meta = _scalar(item["metadata"], "M")
    user = meta.get("user_id", {"NULL": True})
    return RecordedEvent(
        stream_id=_scalar(item["stream_id"], "S"),
        version=version_of(item),
        type=_scalar(item["type"], "S"),
        schema_version=int(_scalar(item["schema_version"], "N")),
        occurred_at=parse_iso(_scalar(item["occurred_at"], "S")),
        data=json.loads(_scalar(item["data"], "S")),
        metadata=Metadata(
            event_id=_scalar(meta["event_id"], "S"),
            correlation_id=_scalar(meta["correlation_id"], "S"),
            causation_id=_scalar(meta["causation_id"], "S"),
            user_id=None if "NULL" in user else _scalar(user, "S"),
        ),
    )


def published_of(item: Item | None, attribute: str = "published") -> dict[str, Any] | None:
    """The published state an event item recorded (`attribute` "published"), or a
    published item holds ("state"); None if it has none."""
    if item is None or attribute not in item:
        return None
    doc: dict[str, Any] = json.loads(_scalar(item[attribute], "S"))
    return doc


def snapshot_of(item: Item) -> Snapshot | None:
    if "snapshot" not in item:
        return None
    body = _scalar(item["snapshot"], "M")
    return Snapshot(
        version=version_of(item),
        schema=int(_scalar(body["schema"], "N")),
        state=json.loads(_scalar(body["state"], "S")),
    )


def _scalar(value: Any, tag: str) -> Any:
    if not isinstance(value, Mapping) or tag not in value:
        raise ValueError(f"expected a DynamoDB {tag!r} attribute, got {value!r}")
    raw = value[tag]
    return str(raw) if tag == "N" and isinstance(raw, int | Decimal) else raw
