"""The projections' generation pointers, as items of the views table (pk
"projection#<name>"), and the dropping of a generation's views.

Pointers written by earlier releases read the same: an attribute they lack (`dropping_*`,
`drop_after`) reads as none. No projector commit touches a pointer item: projectors read
it once per lease (infra/generations.py), query functions once per reader cache."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from event_sourcing.generations import Generations, Pointer, PointerMoved, pointer_key
from event_sourcing.projector import Generation, Projection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_WRITE_ITEMS = 25
BATCH_RETRIES = 8


class DynamoDBGenerations(Generations):
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def read(self, projections: Sequence[Projection]) -> dict[str, Pointer]:
        # One projection (a query function's): a GetItem. Several (the projector's): one
        # BatchGetItem, far below its limits; a key it leaves unprocessed is read alone.
        keys = [_key(p.name) for p in projections]
        unprocessed: Any = {self.table: {"Keys": keys}}
        items: dict[str, Any] = {}
        if len(keys) > 1:
            response = self.client.batch_get_item(
                RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
            )
            items = {i["pk"]["S"]: i for i in response.get("Responses", {}).get(self.table, [])}
            unprocessed = response.get("UnprocessedKeys") or {}
        for key in unprocessed.get(self.table, {}).get("Keys", []):
            got = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            if "Item" in got:
                items[got["Item"]["pk"]["S"]] = got["Item"]
        pointers = {}
        for projection in projections:
            item = items.get(pointer_key(projection.name).collection)
            pointers[projection.name] = (
                _pointer(projection.name, item) if item else Pointer.initial(projection)
            )
        return pointers

    def save(self, pointer: Pointer, *, read_at: int) -> None:
        item = _item(pointer)
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if read_at:
            request["ConditionExpression"] = "epoch = :epoch"
            request["ExpressionAttributeValues"] = {":epoch": {"N": str(read_at)}}
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # A retry after a lost answer meets the pointer it wrote itself: done.
            stored: Any = error.response.get("Item") or {}
            if stored == item:
                return
            raise PointerMoved(
                f"the {pointer.projection} projection's generations changed meanwhile "
                "(another rebuild?): run the command again"
            ) from error

    def drop(self, generation: Generation) -> int:
        # A scan: dropping is an operator's rebuild step, never a query path.
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(pk, :prefix)",
            "ProjectionExpression": "pk, sk",
            "ExpressionAttributeValues": {":prefix": {"S": generation.prefix}},
        }
        dropped = 0
        while True:
            page = self.client.scan(**request)
            keys = [{"pk": i["pk"], "sk": i["sk"]} for i in page.get("Items", [])]
            for start in range(0, len(keys), BATCH_WRITE_ITEMS):
                chunk = keys[start : start + BATCH_WRITE_ITEMS]
                self._delete(chunk)
                dropped += len(chunk)
            if "LastEvaluatedKey" not in page:
                return dropped
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete(self, keys: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table: [{"DeleteRequest": {"Key": k}} for k in keys]}
        for _ in range(BATCH_RETRIES):
            response = self.client.batch_write_item(RequestItems=pending)
            pending = dict(response.get("UnprocessedItems") or {})
            if not pending:
                return
        raise RuntimeError("DynamoDB left deletes unprocessed after retries: throttled")


def _key(projection: str) -> dict[str, Any]:
    key = pointer_key(projection)
    return {"pk": {"S": key.collection}, "sk": {"S": key.id}}


def _item(pointer: Pointer) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(pointer.projection),
        "epoch": {"N": str(pointer.epoch)},
        "checkpoint": {"M": {k: {"S": v} for k, v in pointer.checkpoint.items()}},
    }
    for role in ("live", "building", "retiring", "dropping"):
        generation: Generation | None = getattr(pointer, role)
        if generation is not None:
            item[f"{role}_number"] = {"N": str(generation.number)}
            item[f"{role}_version"] = {"N": str(generation.version)}
    for name in ("started_at", "retire_after", "drop_after"):
        at: datetime | None = getattr(pointer, name)
        if at is not None:
            item[name] = {"S": at.isoformat()}
    return item


def _pointer(projection: str, item: dict[str, Any]) -> Pointer:
    def generation(role: str) -> Generation | None:
        if f"{role}_number" not in item:
            return None
        return Generation(
            projection, int(item[f"{role}_number"]["N"]), int(item[f"{role}_version"]["N"])
        )

    def time(name: str) -> datetime | None:
        return datetime.fromisoformat(item[name]["S"]) if name in item else None

    live = generation("live")
    assert live is not None, f"the {projection} pointer names no live generation"
    return Pointer(
        projection,
        live,
        building=generation("building"),
        retiring=generation("retiring"),
        epoch=int(item["epoch"]["N"]),
        checkpoint={k: v["S"] for k, v in item.get("checkpoint", {}).get("M", {}).items()},
        started_at=time("started_at"),
        retire_after=time("retire_after"),
        dropping=generation("dropping"),
        drop_after=time("drop_after"),
    )
