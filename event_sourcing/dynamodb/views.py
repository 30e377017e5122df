"""The view store on one DynamoDB table (pk, sk) with a general index gsi1 (gsi1pk, gsi1sk).

Each stream's projection position is an item of the same table (pk "position#<stream>"),
written in the same transaction as the changes it caused. A scoped store (one generation
of one projection) prefixes every pk and gsi1pk it writes or reads."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from event_sourcing import cursors
from event_sourcing.views import (
    INDEX_PARTITIONS,
    Change,
    Delete,
    Doc,
    GenerationsChanged,
    Guard,
    Increment,
    Page,
    PositionMoved,
    Put,
    ViewKey,
    ViewStore,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_CHANGES_PER_COMMIT = 99  # a transaction holds 100 items; one is the position
BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25
BATCH_RETRIES = 8

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def position_key(stream_id: str) -> ViewKey:
    return ViewKey(f"position#{stream_id}", "#")


class DynamoDBViewStore(ViewStore):
    """`consistent_reads` is for the projector: it reads documents to rewrite them, and a
    stale read would write an old document over a newer one."""

    def __init__(
        self, client: DynamoDBClient, table: str, *, consistent_reads: bool, prefix: str = ""
    ) -> None:
        self.client = client
        self.table = table
        self.consistent = consistent_reads
        self.prefix = prefix

    def scoped(self, prefix: str) -> DynamoDBViewStore:
        scoped = copy.copy(self)  # a subclass stays itself
        scoped.prefix = self.prefix + prefix
        return scoped

    def get(self, key: ViewKey) -> Doc | None:
        item = self.client.get_item(
            TableName=self.table, Key=self._key(key), ConsistentRead=self.consistent
        ).get("Item")
        return self._doc(item) if item else None

    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        unique = list(dict.fromkeys(keys))
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
                    pk = item["pk"]["S"].removeprefix(self.prefix)
                    found[ViewKey(pk, item["sk"]["S"])] = self._doc(item)
                pending = dict(response.get("UnprocessedKeys") or {})
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB left keys unprocessed after retries: throttled")
        return found

    def query(
        self,
        pk: str,
        *,
        index: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        pk_attr = f"{index}pk" if index else "pk"
        key_attrs = {"pk", "sk"} | ({f"{index}pk", f"{index}sk"} if index else set())
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": pk_attr},
            "ExpressionAttributeValues": {":p": {"S": self.prefix + pk}},
            "ScanIndexForward": not descending,
            "Limit": limit,
        }
        if index:
            request["IndexName"] = index
        else:
            request["ConsistentRead"] = self.consistent
        # Cursors name unprefixed partitions: one continues across a switch of generation.
        scoped = {"pk", f"{index}pk"}
        if cursor is not None:
            start = cursors.open_(cursor, expect={pk_attr: pk}, keys=key_attrs)
            request["ExclusiveStartKey"] = {
                k: {"S": self.prefix + v if k in scoped else v} for k, v in start.items()
            }
        elif after is not None and not index:
            request["ExclusiveStartKey"] = {"pk": {"S": self.prefix + pk}, "sk": {"S": after}}
        response = self.client.query(**request)
        items = [self._doc(item) for item in response.get("Items", [])]
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
        bulk = [c for c in changes if isinstance(c, Put | Delete) and c.bulk]
        atomic = [c for c in changes if not (isinstance(c, Put | Delete) and c.bulk)]
        if len(atomic) > MAX_CHANGES_PER_COMMIT:
            raise ValueError(
                f"one commit may change at most {MAX_CHANGES_PER_COMMIT} view items "
                f"atomically, not {len(atomic)}: mark index entries bulk"
            )
        if bulk and self.position(stream_id) != from_version:
            raise PositionMoved(stream_id, from_version)
        self._write_bulk(bulk)
        # This commit's own mark on the position: a retry of it after a lost answer meets its
        # own mark and is done; another writer's commit of the same range is not ours.
        commit_id = str(uuid.uuid4())
        moved: dict[str, Any] = {
            "TableName": self.table,
            "Item": self._item(
                position_key(stream_id), {"version": to_version, "commit": commit_id}
            ),
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
                names = {f"#f{i}": name for i, name in enumerate(change.counts)}
                values = {
                    f":v{i}": {"N": str(delta)} for i, delta in enumerate(change.counts.values())
                }
                operations.append(
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(change.key),
                            "UpdateExpression": "ADD "
                            + ", ".join(f"#f{i} :v{i}" for i in range(len(names))),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    }
                )
            elif isinstance(change, Put):
                operations.append(
                    {"Put": {"TableName": self.table, "Item": self._item(change.key, change.doc)}}
                )
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
            mark = (reasons[0].get("Item") or {}).get("commit", {}).get("S")
            if reasons[0].get("Code") == "ConditionalCheckFailed" and mark == commit_id:
                return
            guard_failed = len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed"
            if guard is not None and guard_failed:
                raise GenerationsChanged(str(guard.key)) from error
            raise PositionMoved(stream_id, from_version) from error

    def _write_bulk(self, changes: Sequence[Put | Delete]) -> None:
        for start in range(0, len(changes), BATCH_WRITE_ITEMS):
            requests: list[Any] = [
                {"PutRequest": {"Item": self._item(c.key, c.doc)}}
                if isinstance(c, Put)
                else {"DeleteRequest": {"Key": self._key(c.key)}}
                for c in changes[start : start + BATCH_WRITE_ITEMS]
            ]
            pending: dict[str, Any] = {self.table: requests}
            for _ in range(BATCH_RETRIES):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = dict(response.get("UnprocessedItems") or {})
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB left writes unprocessed after retries: throttled")

    def _key(self, key: ViewKey) -> dict[str, Any]:
        return {"pk": {"S": self.prefix + key.pk}, "sk": {"S": key.sk}}

    def _item(self, key: ViewKey, doc: Mapping[str, Any]) -> dict[str, Any]:
        item = {name: _serializer.serialize(_storable(value)) for name, value in doc.items()}
        for name in INDEX_PARTITIONS:
            if isinstance(doc.get(name), str):
                item[name] = {"S": self.prefix + doc[name]}
        item.update(self._key(key))
        return item

    def _doc(self, item: Mapping[str, Any]) -> Doc:
        doc = _doc(item)
        for name in INDEX_PARTITIONS:
            if isinstance(doc.get(name), str):
                doc[name] = doc[name].removeprefix(self.prefix)
        return doc


def _unscoped_key(key: ViewKey) -> dict[str, Any]:
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}


def _storable(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("views hold no floats: use int, or Decimal/str for money")
    if isinstance(value, Mapping):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def _doc(item: Mapping[str, Any]) -> Doc:
    return {
        name: _plain(_deserializer.deserialize(value))
        for name, value in item.items()
        if name not in ("pk", "sk")
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
