"""The event store on one DynamoDB table: one item per event, keyed (stream_id, version).

Cost of a command on a stream of any length: one Query (the last `window` items, newest
first, whose newest snapshot makes the older events unnecessary) and one write: a
conditional PutItem for one event, or one TransactWriteItems for several events, several
streams, unique claims, holds or a changed published state. One item per event so the
stream keeps per-item order. A stream's published state and notes are one more item,
read with one GetItem.

The item format, which the stream readers share:

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
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from event_sourcing.errors import (
    ConcurrencyError,
    HeldTooLate,
    KeyHeld,
    KeyRetired,
    UniquenessViolation,
)
from event_sourcing.events import Metadata, RecordedEvent, Snapshot, iso, parse_iso
from event_sourcing.guards import Claim, Hold, Retire
from event_sourcing.repository import Append, EventStore, StreamTail, check_append

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = Mapping[str, AttributeValueTypeDef]
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

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


@dataclass(frozen=True)
class _CountedRelease:
    """Letting go of a hold the previous release counted (`hold#<ns>#<key>` holders N)
    rather than wrote as a line of its holder: tried when the holder's line is missing."""

    namespace: str
    key: str


Guard = Claim | Hold | Retire | _CountedRelease
MAX_CONCURRENT_READS = 16
SCAN_PAGE_ITEMS = 500
NEW_ITEM = "attribute_not_exists(stream_id)"
_SERVER_ERRORS = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
}
"""400s the SDK retries: after them an earlier try of the same write may have landed."""


def _event_id(item: Mapping[str, Any] | None) -> str | None:
    """The event id an event item carries (None for anything else)."""
    metadata = (item or {}).get("metadata", {}).get("M", {})
    value = metadata.get("event_id", {}).get("S")
    return str(value) if value is not None else None


def request_token(event_ids: Sequence[str | None]) -> str:
    """A TransactWriteItems ClientRequestToken (at most 36 characters) naming these events."""
    digest = hashlib.sha256("\n".join(i for i in event_ids if i).encode()).hexdigest()
    return digest[:36]


class DynamoDBEventStore(EventStore):
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def append(
        self,
        *appends: Append,
        claims: Sequence[Claim] = (),
        holds: Sequence[Hold] = (),
        retire: Sequence[Retire] = (),
    ) -> None:
        items = check_append(appends, claims, holds, retire)
        if items == 0:
            return
        if items == 1 and len(appends) == 1:
            with self._outcome_read_back(appends):
                self._put_one(appends[0])
            return
        token = self._retiring(retire) if retire else None
        try:
            with self._outcome_read_back(appends):
                self._transact(appends, [*claims, *holds, *retire], token)
        except BaseException:
            if token is not None:  # the retirement's write removes its mark itself
                self._not_retiring(retire, token)
            raise
        self._taken_in_time([h for h in holds if h.holder is not None and h.delta > 0])

    # A retirement and the holds of one key share no item (so holders never contend), so
    # they meet as in Dekker's algorithm, each writing before it reads the other's item:
    # a retirement marks the key retiring, then looks for holders (consistent queries), and
    # retires it only if it found none, conditioned on its mark; a hold is written, then
    # the key's mark read (consistent). Whichever comes second sees the other: a
    # retirement that sees a holder refuses (`KeyHeld`); a holder that sees the mark lets go
    # of its hold again (`HeldTooLate`): both may lose a close race, never both win.

    def _retiring(self, retire: Sequence[Retire]) -> str:
        token = uuid.uuid4().hex
        for retirement in retire:
            marked = self.client.update_item(
                TableName=self.table,
                Key=hold_key(retirement.namespace, retirement.key),
                UpdateExpression="SET retiring = :token, kind = :hold",
                ExpressionAttributeValues={":token": {"S": token}, ":hold": {"S": HOLD}},
                ReturnValues="ALL_NEW",
            ).get("Attributes", {})
            counted = int(marked.get("holders", {}).get("N", "0"))
            if counted > 0 or self._has_lines(retirement.namespace, retirement.key):
                self._not_retiring(retire, token)
                raise KeyHeld(retirement.namespace, retirement.key)
        return token

    def _has_lines(self, namespace: str, key: str) -> bool:
        for partition in range(HOLD_LINE_PARTITIONS):
            found = self.client.query(
                TableName=self.table,
                KeyConditionExpression="stream_id = :s",
                ExpressionAttributeValues={
                    ":s": {"S": hold_line_partition(namespace, key, partition)}
                },
                ProjectionExpression="version",
                Limit=1,
                ConsistentRead=True,
            )
            if found.get("Items"):
                return True
        return False

    def _not_retiring(self, retire: Sequence[Retire], token: str) -> None:
        for retirement in retire:
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=hold_key(retirement.namespace, retirement.key),
                    UpdateExpression="REMOVE retiring",
                    ConditionExpression="retiring = :token",
                    ExpressionAttributeValues={":token": {"S": token}},
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def _taken_in_time(self, taken: Sequence[Hold]) -> None:
        """Let go of the holds just taken on keys being retired, and say so."""
        if not taken:
            return
        keys = sorted({(h.namespace, h.key) for h in taken})

        def mark(key: tuple[str, str]) -> Mapping[str, Any]:
            return self.client.get_item(
                TableName=self.table, Key=hold_key(*key), ConsistentRead=True
            ).get("Item", {})

        # One consistent GetItem per key (most orders hold a few products), at once.
        with ThreadPoolExecutor(max_workers=min(len(keys), MAX_CONCURRENT_READS)) as pool:
            marks = dict(zip(keys, pool.map(mark, keys), strict=True))
        late = [
            h
            for h in taken
            if "retiring" in marks.get((h.namespace, h.key), {})
            or "retired" in marks.get((h.namespace, h.key), {})
        ]
        if not late:
            return
        for hold in late:
            assert hold.holder is not None
            self.client.delete_item(
                TableName=self.table, Key=hold_line_key(hold.namespace, hold.key, hold.holder)
            )
        raise HeldTooLate(late[0].namespace, frozenset(h.key for h in late))

    def tail(self, stream_id: str, *, window: int) -> StreamTail:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="stream_id = :s",
            ExpressionAttributeValues={":s": {"S": stream_id}},
            ScanIndexForward=False,
            Limit=window,
            ConsistentRead=True,
        )
        newest_first = response.get("Items", [])
        if not newest_first:
            return StreamTail(stream_id, 0, None, [])
        version = version_of(newest_first[0])
        published = published_of(newest_first[0])
        for position, item in enumerate(newest_first):
            snapshot = snapshot_of(item)
            if snapshot is not None:
                later = [event_of(i) for i in reversed(newest_first[:position])]
                return StreamTail(stream_id, version, snapshot, later, published)
        events = [event_of(i) for i in reversed(newest_first)]
        if events[0].version > 1:
            # No snapshot in the window (written by older code, or never): read it all.
            events = self.read(stream_id, up_to=events[0].version - 1) + events
        return StreamTail(stream_id, version, None, events, published)

    def head(self, stream_id: str) -> int:
        # One item, its key attributes only: 0.5 read units, and a reader allowed only these
        # attributes (dynamodb:Attributes) reads no event data. Select is explicit because
        # IAM's dynamodb:Select condition sees only what the request names.
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="stream_id = :s",
            ExpressionAttributeValues={":s": {"S": stream_id}},
            ProjectionExpression="stream_id, version",
            Select="SPECIFIC_ATTRIBUTES",
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return version_of(items[0]) if items else 0

    def tails(self, stream_ids: Sequence[str], *, window: int) -> dict[str, StreamTail]:
        # DynamoDB has no batched Query: one bounded Query per stream, at once, so an
        # order of 48 lines waits for about one round trip, not 48.
        if len(stream_ids) <= 1:
            return super().tails(stream_ids, window=window)
        with ThreadPoolExecutor(max_workers=min(len(stream_ids), MAX_CONCURRENT_READS)) as pool:
            tails = pool.map(lambda s: self.tail(s, window=window), stream_ids)
            return {tail.stream_id: tail for tail in tails}

    def read(
        self, stream_id: str, *, after: int = 0, up_to: int | None = None
    ) -> list[RecordedEvent]:
        values: dict[str, Any] = {":s": {"S": stream_id}, ":a": {"N": str(after)}}
        condition = "stream_id = :s AND version > :a"
        if up_to is not None:
            if up_to <= after:
                return []
            condition = "stream_id = :s AND version BETWEEN :first AND :last"
            values = {
                ":s": {"S": stream_id},
                ":first": {"N": str(after + 1)},
                ":last": {"N": str(up_to)},
            }
        events: list[RecordedEvent] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**request)
            events.extend(event_of(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return events
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def published(self, stream_id: str) -> Mapping[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key=published_key(stream_id),
            ProjectionExpression="#state",
            ExpressionAttributeNames={"#state": "state"},
            ConsistentRead=True,
        ).get("Item")
        return published_of(item, "state")

    def note(self, stream_id: str, name: str, value: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=published_key(stream_id),
                UpdateExpression="SET #note = :value, kind = :published",
                # An older value never replaces a newer one; a retry of a note that landed
                # meets its own value and is done.
                ConditionExpression="attribute_not_exists(#note) OR #note < :value",
                ExpressionAttributeNames={"#note": NOTE_PREFIX + name},
                ExpressionAttributeValues={
                    ":value": {"S": value},
                    ":published": {"S": PUBLISHED},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def notes(self, stream_id: str) -> Mapping[str, str]:
        item = self.client.get_item(
            TableName=self.table, Key=published_key(stream_id), ConsistentRead=True
        ).get("Item", {})
        return {
            name.removeprefix(NOTE_PREFIX): str(value["S"])
            for name, value in item.items()
            if name.startswith(NOTE_PREFIX) and "S" in value
        }

    def claim_owner(self, namespace: str, value: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"stream_id": {"S": claim_stream_id(namespace, value)}, "version": {"N": "0"}},
            ConsistentRead=True,
        ).get("Item")
        return item["owner"]["S"] if item else None

    def holders(self, namespace: str, key: str) -> int:
        item = self.client.get_item(
            TableName=self.table, Key=hold_key(namespace, key), ConsistentRead=True
        ).get("Item")
        counted = int(item["holders"]["N"]) if item and "holders" in item else 0
        lines = 0
        for partition in range(HOLD_LINE_PARTITIONS):
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "stream_id = :s",
                "ExpressionAttributeValues": {
                    ":s": {"S": hold_line_partition(namespace, key, partition)}
                },
                "Select": "COUNT",
                "ConsistentRead": True,
            }
            while True:
                page = self.client.query(**request)
                lines += page.get("Count", 0)
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return counted + lines

    def stream_pages(
        self, *, segment: int = 0, segments: int = 1, after: str | None = None
    ) -> Iterator[tuple[list[str], str | None]]:
        # A (parallel) scan, for rebuilds only: every stream has exactly one item at
        # version 1. A token is the scan's LastEvaluatedKey, as JSON.
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "version = :one AND kind = :event",
            "ProjectionExpression": "stream_id",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":event": {"S": "event"}},
            # Items read per page, before the filter: a rebuild checkpoints after each page,
            # so a crashed one redoes at most this much.
            "Limit": SCAN_PAGE_ITEMS,
        }
        if segments > 1:
            request |= {"Segment": segment, "TotalSegments": segments}
        if after is not None:
            request["ExclusiveStartKey"] = json.loads(after)
        while True:
            page = self.client.scan(**request)
            last = page.get("LastEvaluatedKey")
            token = json.dumps(last, sort_keys=True) if last else None
            yield [item["stream_id"]["S"] for item in page.get("Items", [])], token
            if last is None:
                return
            request["ExclusiveStartKey"] = last

    def streams_since(self, since: datetime) -> set[str]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "occurred_at >= :since AND kind = :event",
            "ProjectionExpression": "stream_id",
            "ExpressionAttributeValues": {":since": {"S": iso(since)}, ":event": {"S": "event"}},
        }
        streams: set[str] = set()
        while True:
            page = self.client.scan(**request)
            streams.update(item["stream_id"]["S"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return streams
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def current_version(self, stream_id: str) -> int:
        newest = self.client.query(
            TableName=self.table,
            KeyConditionExpression="stream_id = :s",
            ExpressionAttributeValues={":s": {"S": stream_id}},
            ProjectionExpression="version",
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        ).get("Items", [])
        return version_of(newest[0]) if newest else 0

    @contextmanager
    def _outcome_read_back(self, appends: Sequence[Append]) -> Iterator[None]:
        """A write whose every try the SDK made ended in a server error (500, throttling)
        may have landed all the same (a lost answer, then retries that failed before they
        met their own item): read its first event back. Ours there: the write is done, and
        a retry of the whole request (same Idempotency-Key) must not decide it again. Not
        there: it did not land, and the error stands.

        Assumed, not tested on AWS: by the time the SDK's last try has failed (seconds of
        backoff), an earlier try is no longer in flight, so a consistent read sees its
        outcome (DynamoDB reads committed items; a transaction commits in milliseconds)."""
        try:
            yield
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = error.response["Error"]["Code"]
            if status < 500 and code not in _SERVER_ERRORS:
                raise
            event = next((a.events[0] for a in appends if a.events), None)
            if event is None or not self._landed(event):
                raise

    def _landed(self, event: RecordedEvent) -> bool:
        found = self.client.get_item(
            TableName=self.table,
            Key={"stream_id": {"S": event.stream_id}, "version": {"N": str(event.version)}},
            ProjectionExpression="metadata",
            ConsistentRead=True,
        ).get("Item")
        return _event_id(found) == event.metadata.event_id

    def _put_one(self, append: Append) -> None:
        (event,) = append.events
        try:
            self.client.put_item(
                TableName=self.table,
                Item=event_item(event, append.snapshot, append.published),
                ConditionExpression=NEW_ITEM,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "TransactionConflictException":
                # The item is in another writer's ongoing transaction (botocore does not
                # retry this): as retryable as a version conflict.
                raise self._conflict(append) from error
            if code != "ConditionalCheckFailedException":
                raise
            # A lost acknowledgement: the put landed, its answer did not, and the SDK's retry
            # met its own item. Ours (same event id): done, never decided again.
            old: Any = error.response.get("Item")
            if _event_id(old) == event.metadata.event_id:
                return
            raise self._conflict(append) from error

    def _transact(
        self, appends: Sequence[Append], guards: Sequence[Guard], token: str | None = None
    ) -> None:
        """The append in one TransactWriteItems. A hold the previous release counted is let
        go of in the counter when its holder has no line (one more try per such hold)."""
        guards = list(guards)
        while True:
            try:
                return self._transact_once(appends, guards, token)
            except _CountedHold as counted:
                guard = guards[counted.index]
                if isinstance(guard, Hold):
                    guards[counted.index] = _CountedRelease(guard.namespace, guard.key)
                else:  # counted at 0 too: nothing to let go of
                    del guards[counted.index]

    def _transact_once(
        self, appends: Sequence[Append], guards: Sequence[Guard], token: str | None
    ) -> None:
        operations: list[TransactWriteItemTypeDef] = [self._guard(g, token) for g in guards]
        owners: list[Append | Guard] = list(guards)
        event_ids: list[str | None] = [None] * len(guards)
        for append in appends:
            last = len(append.events) - 1
            for index, event in enumerate(append.events):
                event_ids.append(event.metadata.event_id)
                snapshot, published = (
                    (append.snapshot, append.published) if index == last else (None, None)
                )
                operations.append(
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": event_item(event, snapshot, published),
                            "ConditionExpression": NEW_ITEM,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    }
                )
                owners.append(append)
            if append.publish and append.published is not None:
                # Unconditioned: the events' conditions order the writers, and an update
                # (not a put) keeps the stream's notes.
                event_ids.append(None)
                operations.append(self._publish(append, append.published))
                owners.append(append)
        try:
            # The token makes DynamoDB answer the SDK's retry of a landed transaction (for ten
            # minutes) with success instead of applying it again; the same event ids, the same
            # token: a new decision always has new ids.
            self.client.transact_write_items(
                TransactItems=operations, ClientRequestToken=request_token(event_ids)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons: Sequence[Mapping[str, Any]] = error.response.get("CancellationReasons", [])
            # Past the token's window (or where it is not honoured), a retry of a transaction
            # that landed fails on its own event items: one of them ours means all of them
            # are (a transaction is all or nothing), so the append is done.
            for reason, event_id in zip(reasons, event_ids, strict=False):
                failed = reason.get("Code") == "ConditionalCheckFailed"
                if event_id is not None and failed and _event_id(reason.get("Item")) == event_id:
                    return
            for index, (reason, owner) in enumerate(zip(reasons, owners, strict=False)):
                released = isinstance(owner, _CountedRelease) or (
                    isinstance(owner, Hold) and owner.holder is not None and owner.delta < 0
                )
                if released and reason.get("Code") == "ConditionalCheckFailed":
                    raise _CountedHold(index) from error
            raise self._cancelled(reasons, owners) from error

    def _publish(self, append: Append, doc: Mapping[str, Any]) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self.table,
                "Key": published_key(append.stream_id),
                "UpdateExpression": "SET #state = :state, #at = :at, kind = :published",
                "ExpressionAttributeNames": {"#state": "state", "#at": "at"},
                "ExpressionAttributeValues": {
                    ":state": {"S": published_json(doc)},
                    ":at": {"N": str(append.events[-1].version)},
                    ":published": {"S": PUBLISHED},
                },
            }
        }

    def _guard(self, guard: Guard, token: str | None = None) -> TransactWriteItemTypeDef:
        if isinstance(guard, Claim) and guard.released:
            return {
                "Delete": {
                    "TableName": self.table,
                    "Key": {
                        "stream_id": {"S": claim_stream_id(guard.namespace, guard.value)},
                        "version": {"N": "0"},
                    },
                    # Gone already (nobody's, or our own delete whose answer was lost): done.
                    "ConditionExpression": "attribute_not_exists(stream_id) OR #owner = :owner",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {":owner": {"S": guard.owner}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        if isinstance(guard, Claim):
            return {
                "Put": {
                    "TableName": self.table,
                    "Item": claim_item(guard.namespace, guard.value, guard.owner),
                    # Claiming again for the same owner is a no-op, not a conflict.
                    "ConditionExpression": f"{NEW_ITEM} OR #owner = :owner",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {":owner": {"S": guard.owner}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        if isinstance(guard, Hold) and guard.holder is not None:
            line = hold_line_key(guard.namespace, guard.key, guard.holder)
            if guard.delta > 0:
                # Its own item: no other holder of the key contends with it. Retirements
                # are met after the write (`_taken_in_time`).
                return {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **line,
                            "kind": {"S": HOLD},
                            "holder": {"S": guard.holder},
                        },
                    }
                }
            return {
                "Delete": {
                    "TableName": self.table,
                    "Key": line,
                    # Missing: the previous release counted this hold (see `_transact`).
                    "ConditionExpression": "attribute_exists(stream_id)",
                }
            }
        if isinstance(guard, _CountedRelease):
            return {
                "Update": {
                    "TableName": self.table,
                    "Key": hold_key(guard.namespace, guard.key),
                    "UpdateExpression": "ADD holders :delta",
                    "ConditionExpression": "holders > :none",
                    "ExpressionAttributeValues": {":delta": {"N": "-1"}, ":none": {"N": "0"}},
                }
            }
        if isinstance(guard, Hold):
            update: TransactWriteItemTypeDef = {
                "Update": {
                    "TableName": self.table,
                    "Key": hold_key(guard.namespace, guard.key),
                    "UpdateExpression": "ADD holders :delta SET kind = :hold",
                    "ExpressionAttributeValues": {
                        ":delta": {"N": str(guard.delta)},
                        ":hold": {"S": HOLD},
                    },
                }
            }
            if guard.delta > 0:
                update["Update"]["ConditionExpression"] = "attribute_not_exists(retired)"
            return update
        assert token is not None, "a retirement is marked retiring first (`_retiring`)"
        return {
            "Update": {
                "TableName": self.table,
                "Key": hold_key(guard.namespace, guard.key),
                "UpdateExpression": "SET retired = :yes, kind = :hold REMOVE retiring",
                "ConditionExpression": "(attribute_not_exists(holders) OR holders = :none) "
                "AND retiring = :token",
                "ExpressionAttributeValues": {
                    ":yes": {"BOOL": True},
                    ":hold": {"S": HOLD},
                    ":none": {"N": "0"},
                    ":token": {"S": token},
                },
            }
        }

    def _cancelled(
        self, reasons: Sequence[Mapping[str, Any]], owners: Sequence[Append | Guard]
    ) -> Exception:
        for reason, owner in zip(reasons, owners, strict=False):
            code = reason.get("Code", "None")
            if code == "None":
                continue
            if isinstance(owner, Append):
                return self._conflict(owner)
            if code == "ConditionalCheckFailed":
                if isinstance(owner, Claim):
                    holder = reason.get("Item", {}).get("owner", {}).get("S", "?")
                    return UniquenessViolation(owner.namespace, owner.value, holder)
                if isinstance(owner, Hold):
                    return KeyRetired(owner.namespace, owner.key)
                if isinstance(owner, Retire):
                    return KeyHeld(owner.namespace, owner.key)
            # A guard caught in a concurrent transaction (`TransactionConflict`: botocore
            # does not retry it): as retryable as a version conflict.
            name = owner.value if isinstance(owner, Claim) else owner.key
            return ConcurrencyError(f"{owner.namespace}#{name}", expected=0, actual=0)
        first = next(o for o in owners if isinstance(o, Append))
        return self._conflict(first)

    def _conflict(self, append: Append) -> ConcurrencyError:
        actual = self.current_version(append.stream_id)
        return ConcurrencyError(append.stream_id, expected=append.expected_version, actual=actual)


class _CountedHold(Exception):
    """The guard at `index` lets go of a hold its holder has no line for."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index
