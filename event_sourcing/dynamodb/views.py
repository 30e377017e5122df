"""The view store on one DynamoDB table (pk, sk) with a general index gsi1 (gsi1pk, gsi1sk).

How the kit's words are stored (tables written by earlier versions read the same):

- a `ViewKey(collection, id)` is the item's key: `pk` = collection, `sk` = id; a
  collection is one partition, so `query` is one Query of it;
- a `Listing(name, sort)` is two attributes of the document's item, `gsi1pk` = name and
  `gsi1sk` = sort, the keys of the index `gsi1` (projection ALL); `listing` queries that
  index. Reads drop these attributes: a document reads back as it was written;
- each stream's position is an item (pk "position#<stream>"), written in the same
  transaction as the changes it caused;
- a scoped store (one generation of one projection) prefixes every pk and gsi1pk it writes
  or reads;
- a spread collection (`ViewStore.spreading`) is `shards` partitions: a document of id `i`
  lives in part `blake2b(i) % shards`, part 0 being the collection's own partition (`pk` =
  collection, where a collection written before it was spread keeps its items: they read
  as part 0's) and part `s` the partition `<collection>#shard<s>`. Why: one partition takes
  at most 1,000 write units/s, and a collection every order writes (the admin's list of all
  orders) would hold the shop's whole order rate to that. A page of it is one Query per part
  (each at most `limit` items, eventually consistent: 16 small Queries of 0.5 read units
  for an admin's page of small entries), merged by id; its cursor is the last id answered,
  sealed as a whole collection's cursor is (`{"pk": collection, "sk": id}`), so a cursor of
  either kind continues in the other.

What the reads cost: a Query page costs its bytes, not its items (4 KB per read unit,
eventually consistent reads half that), and DynamoDB answers at most 1 MB per Query, so a
large `limit` over small entries (100 to 200 bytes each: the catalogue's search entries)
is one request and a few read units, where reading each entry's document would cost a unit
apiece. `get_many` is a BatchGetItem per 100 keys.

What a commit can hold: a transaction writes at most 100 items, one of them the position
(`MAX_CHANGES_PER_COMMIT`). Changes marked `ahead` are written first, by BatchWriteItem
(25 per request; an `Increment` ahead by UpdateItem, one each), after checking the
position, then the transaction: that is how an event's hundreds of search entries (and
their trigrams' counters) are written."""

from __future__ import annotations

import copy
import hashlib
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from event_sourcing import cursors
from event_sourcing.views import (
    SHARDS,
    Change,
    Delete,
    Doc,
    GenerationsChanged,
    Guard,
    Increment,
    Listing,
    Page,
    PositionMoved,
    Put,
    ViewKey,
    ViewReader,
    ViewStore,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from event_sourcing.generations import Generations
    from event_sourcing.projector import Projection

MAX_CHANGES_PER_COMMIT = 99  # a transaction holds 100 items; one is the position
BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25
BATCH_RETRIES = 8
KEY = ("pk", "sk")
"""The item's key: a `ViewKey`'s collection and id."""
LISTING_INDEX = "gsi1"
LISTING = ("gsi1pk", "gsi1sk")
"""The index's key, attributes of the item: a `Listing`'s name and sort."""
STORED_ONLY = frozenset(KEY + LISTING)
"""Attributes of an item that are no document's field."""
MARK = "commit"
"""The commit that last wrote an item, on positions and counters written ahead: how a
retried write recognises its own (dropped from counters' documents when read)."""

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def position_key(stream_id: str) -> ViewKey:
    return ViewKey(f"position#{stream_id}", "#")


def shard_of(id: str, shards: int) -> int:
    """The part of a spread collection that holds the document of id `id`: stable across
    processes (not `hash`), and even for ids that differ in a character or two (crc32 is
    linear: its low bits of such ids fall in a few parts)."""
    digest = hashlib.blake2b(id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_partition(collection: str, shard: int) -> str:
    """The partition key (unprefixed) of part `shard` of a spread collection."""
    return collection if shard == 0 else f"{collection}#shard{shard}"


class DynamoDBViewStore(ViewStore):
    """`consistent_reads` is for the projector: it reads documents to rewrite them, and a
    stale read would write an old document over a newer one."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        consistent_reads: bool,
        prefix: str = "",
        shards: int = SHARDS,
    ) -> None:
        self.client = client
        self.table = table
        self.consistent = consistent_reads
        self.prefix = prefix
        self.shards = shards
        self.spread: frozenset[str] = frozenset()

    def scoped(self, prefix: str) -> DynamoDBViewStore:
        scoped = copy.copy(self)  # a subclass stays itself
        scoped.prefix = self.prefix + prefix
        return scoped

    def spreading(
        self, collections: Collection[str], shards: int | None = None
    ) -> DynamoDBViewStore:
        spread = copy.copy(self)
        spread.spread = self.spread | frozenset(collections)
        spread.shards = shards or self.shards
        return spread

    def get(self, key: ViewKey) -> Doc | None:
        item = self.client.get_item(
            TableName=self.table, Key=self._key(key), ConsistentRead=self.consistent
        ).get("Item")
        return _doc(item) if item else None

    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        unique = list(dict.fromkeys(keys))
        stored = {(k["pk"]["S"], k["sk"]["S"]): key for key in unique for k in [self._key(key)]}
        found: dict[ViewKey, Doc] = {}
        for start in range(0, len(unique), BATCH_GET_KEYS):
            pending: dict[str, Any] = {
                self.table: {
                    "Keys": [self._key(k) for k in unique[start : start + BATCH_GET_KEYS]],
                    "ConsistentRead": self.consistent,
                }
            }
            for _ in range(BATCH_RETRIES):
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table, []):
                    found[stored[(item["pk"]["S"], item["sk"]["S"])]] = _doc(item)
                pending = dict(response.get("UnprocessedKeys") or {})
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB left keys unprocessed after retries: throttled")
        return found

    def query(
        self,
        collection: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        if collection in self.spread:
            return self._merged(
                collection, limit=limit, cursor=cursor, descending=descending, after=after
            )
        start = None
        if after is not None and cursor is None:
            start = {"pk": {"S": self.prefix + collection}, "sk": {"S": after}}
        return self._query(
            collection, limit=limit, cursor=cursor, descending=descending, start=start
        )

    def listing(
        self,
        name: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
    ) -> Page:
        return self._query(
            name, index=LISTING_INDEX, limit=limit, cursor=cursor, descending=descending
        )

    def _query(
        self,
        value: str,
        *,
        index: str | None = None,
        limit: int,
        cursor: str | None,
        descending: bool,
        start: dict[str, Any] | None = None,
    ) -> Page:
        """One Query of the partition `value` of the table (`KEY`) or of the listings' index
        (`LISTING`); a cursor is its LastEvaluatedKey (whose attributes are both keys')."""
        keys = LISTING if index == LISTING_INDEX else KEY
        partition = keys[0]
        key_attrs = set(KEY) | set(keys)
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": partition},
            "ExpressionAttributeValues": {":p": {"S": self.prefix + value}},
            "ScanIndexForward": not descending,
            "Limit": limit,
        }
        if index:
            request["IndexName"] = index
        else:
            request["ConsistentRead"] = self.consistent
        # Cursors name unprefixed partitions: one continues across a switch of generation.
        scoped = {"pk", partition}
        if cursor is not None:
            opened = cursors.open_(cursor, expect={partition: value}, keys=key_attrs)
            request["ExclusiveStartKey"] = {
                k: {"S": self.prefix + v if k in scoped else v} for k, v in opened.items()
            }
        elif start is not None:
            request["ExclusiveStartKey"] = start
        response = self.client.query(**request)
        items = [_doc(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_cursor = None
        if last:
            next_cursor = cursors.seal(
                {
                    k: v["S"].removeprefix(self.prefix) if k in scoped else v["S"]
                    for k, v in last.items()
                }
            )
        return Page(items, next_cursor)

    def _merged(
        self,
        collection: str,
        *,
        limit: int,
        cursor: str | None,
        descending: bool,
        after: str | None,
    ) -> Page:
        """A page of a spread collection: one Query of each part, from the same id on,
        merged in id order (ids are unique within a collection, so the page is the one
        the whole collection would answer)."""
        start = after
        if cursor is not None:
            start = cursors.open_(cursor, expect={"pk": collection}, keys=set(KEY))["sk"]
        rows: list[tuple[str, Doc]] = []
        more = False
        for shard in range(self.shards):
            partition = self.prefix + shard_partition(collection, shard)
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": partition}},
                "ScanIndexForward": not descending,
                "Limit": limit,
                "ConsistentRead": self.consistent,
            }
            if start is not None:
                request["ExclusiveStartKey"] = {"pk": {"S": partition}, "sk": {"S": start}}
            response = self.client.query(**request)
            rows += [(item["sk"]["S"], _doc(item)) for item in response.get("Items", [])]
            more = more or "LastEvaluatedKey" in response
        rows.sort(key=lambda row: row[0], reverse=descending)
        page = rows[:limit]
        more = more or len(rows) > limit
        next_cursor = cursors.seal({"pk": collection, "sk": page[-1][0]}) if more and page else None
        return Page([doc for _, doc in page], next_cursor)

    def position(self, stream_id: str) -> int:
        doc = self.get(position_key(stream_id))
        return int(doc["version"]) if doc else 0

    def commit(
        self,
        stream_id: str,
        *,
        from_version: int,
        to_version: int,
        changes: Sequence[Change],
        guard: Guard | None = None,
    ) -> None:
        ahead = [c for c in changes if c.ahead]
        atomic = [c for c in changes if not c.ahead]
        if len(atomic) > MAX_CHANGES_PER_COMMIT:
            raise ValueError(
                f"one commit may change at most {MAX_CHANGES_PER_COMMIT} view items "
                f"atomically, not {len(atomic)}: mark the changes an event does not bound ahead"
            )
        # This commit's own mark on the position: a retry of it after a lost answer meets its
        # own mark and is done; another writer's commit of the same range is not ours.
        commit_id = str(uuid.uuid4())
        if ahead and self.position(stream_id) != from_version:
            raise PositionMoved(stream_id, from_version)
        self._write_ahead(ahead, commit_id)
        moved: dict[str, Any] = {
            "TableName": self.table,
            "Item": self._item(position_key(stream_id), {"version": to_version, MARK: commit_id}),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if from_version:
            moved["ConditionExpression"] = "#v = :from"
            moved["ExpressionAttributeNames"] = {"#v": "version"}
            moved["ExpressionAttributeValues"] = {":from": {"N": str(from_version)}}
        operations: list[TransactWriteItemTypeDef] = [{"Put": moved}]  # type: ignore[typeddict-item]
        if guard is not None:
            # The generations the projector read: a commit after one began, switched or
            # retired fails, so no event is applied to fewer generations than are active.
            # Cost: one more item in the transaction, on one item per projection (its hot
            # key bounds one projection to about 500 commits/s: docs/operations.md).
            check: dict[str, Any] = {
                "TableName": self.table,
                "Key": _unscoped_key(guard.key),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            if guard.epoch:
                check["ConditionExpression"] = "epoch = :epoch"
                check["ExpressionAttributeValues"] = {":epoch": {"N": str(guard.epoch)}}
            operations.append({"ConditionCheck": check})  # type: ignore[typeddict-item]
        for change in atomic:
            if isinstance(change, Increment):
                update: Any = {"TableName": self.table, **self._addition(change)}
                operations.append({"Update": update})
            elif isinstance(change, Put):
                item = self._item(change.key, change.doc, change.listed)
                operations.append({"Put": {"TableName": self.table, "Item": item}})
            elif isinstance(change, Delete):
                operations.append(
                    {"Delete": {"TableName": self.table, "Key": self._key(change.key)}}
                )
        try:
            self.client.transact_write_items(TransactItems=operations, ClientRequestToken=commit_id)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons: Any = error.response.get("CancellationReasons") or [{}]
            mark = (reasons[0].get("Item") or {}).get(MARK, {}).get("S")
            if reasons[0].get("Code") == "ConditionalCheckFailed" and mark == commit_id:
                return
            guard_failed = len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed"
            if guard is not None and guard_failed:
                raise GenerationsChanged(str(guard.key)) from error
            raise PositionMoved(stream_id, from_version) from error

    def _write_ahead(self, changes: Sequence[Change], commit_id: str) -> None:
        # Increments: one UpdateItem each (BatchWriteItem cannot add), 1 write unit apiece
        # for a small counter. Each leaves the commit's mark, and adds only if the mark is
        # not already there: the SDK's retry after a lost answer meets it and adds nothing.
        for increment in [c for c in changes if isinstance(c, Increment)]:
            addition = self._addition(increment)
            addition["UpdateExpression"] += " SET #mark = :mark"
            addition["ConditionExpression"] = "attribute_not_exists(#mark) OR #mark <> :mark"
            addition["ExpressionAttributeNames"]["#mark"] = MARK
            addition["ExpressionAttributeValues"][":mark"] = {"S": commit_id}
            try:
                self.client.update_item(TableName=self.table, **addition)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        writes = [c for c in changes if isinstance(c, Put | Delete)]
        for start in range(0, len(writes), BATCH_WRITE_ITEMS):
            requests: list[Any] = [
                {"PutRequest": {"Item": self._item(c.key, c.doc, c.listed)}}
                if isinstance(c, Put)
                else {"DeleteRequest": {"Key": self._key(c.key)}}
                for c in writes[start : start + BATCH_WRITE_ITEMS]
            ]
            pending: dict[str, Any] = {self.table: requests}
            for _ in range(BATCH_RETRIES):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = dict(response.get("UnprocessedItems") or {})
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB left writes unprocessed after retries: throttled")

    def _addition(self, change: Increment) -> dict[str, Any]:
        """The key and ADD expression of an `Increment` (an Update, alone or in a commit)."""
        names = {f"#f{i}": name for i, name in enumerate(change.counts)}
        values = {f":v{i}": {"N": str(delta)} for i, delta in enumerate(change.counts.values())}
        return {
            "Key": self._key(change.key),
            "UpdateExpression": "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(names))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _key(self, key: ViewKey) -> dict[str, Any]:
        collection = key.collection
        if collection in self.spread:
            collection = shard_partition(collection, shard_of(key.id, self.shards))
        return {"pk": {"S": self.prefix + collection}, "sk": {"S": key.id}}

    def _item(
        self, key: ViewKey, doc: Mapping[str, Any], listed: Listing | None = None
    ) -> dict[str, Any]:
        stored_only = STORED_ONLY.intersection(doc)
        if stored_only:
            raise ValueError(f"a document's fields may not be named {sorted(stored_only)}")
        item = {name: _serializer.serialize(_storable(value)) for name, value in doc.items()}
        if listed is not None:
            name, sort = LISTING
            item[name] = {"S": self.prefix + listed.name}
            item[sort] = {"S": listed.sort}
        item.update(self._key(key))
        return item


def _unscoped_key(key: ViewKey) -> dict[str, Any]:
    return {"pk": {"S": key.collection}, "sk": {"S": key.id}}


def _storable(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("views hold no floats: use int, or Decimal/str for money")
    if isinstance(value, Mapping):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def _doc(item: Mapping[str, Any]) -> Doc:
    # A position's mark is its own business (read as `version`); a counter's too.
    return {
        name: _plain(_deserializer.deserialize(value))
        for name, value in item.items()
        if name not in STORED_ONLY and name != MARK
    }


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: integral ones become int again."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


class LiveViews:
    """Each projection's live generation of views, as query functions read it (the call
    `live("catalog")`).

    Its pointer is read again once it is `cache_seconds` old (one GetItem), so a switch
    reaches every reader within that time; the old generation is kept current meanwhile and
    dropped only after it (event_sourcing/rebuild.py). It sits beside the views it opens so
    that a warm query enters one file of the kit (docs/architecture.md)."""

    def __init__(
        self,
        views: ViewStore,
        generations: Generations,
        named: Callable[[str], Projection],
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.views = views
        self.generations = generations
        self.named = named
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._opened: dict[str, tuple[float, ViewReader]] = {}

    def __call__(self, projection: str) -> ViewReader:
        now = self.clock()
        opened = self._opened.get(projection)
        if opened is None or now - opened[0] > self.cache_seconds:
            named = self.named(projection)
            pointer = self.generations.read([named])[projection]
            opened = self._opened[projection] = (
                now,
                named.views_of(self.views, pointer.live.prefix),
            )
        return opened[1]
