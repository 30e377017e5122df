"""A one-off migration: personal data stored in clear by releases before sealing, sealed.

Events written before personal fields were sealed hold the email and the password hashes in
clear (and reviews their comments); so do the snapshots in their items, and the email
claims (`claim#email#<address>`). They keep reading right as they are (a clear value reads
as itself), but an erasure cannot reach them: this seals them in place under their subject's
key, so that it can. Run once after deploying the release that seals
(`eventshop-admin seal-personal`); safe to run again or to resume after a crash: what is
sealed already is left alone, and each item is rewritten only if it is still as it was read.

What it writes: one UpdateItem per clear event item (its `data`, its snapshot's `state`),
one TransactWriteItems per clear claim (the pseudonym's claim put, the clear one deleted).
It reads the event table with a Scan: an operator's tool, never a request path."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.catalog.review import Review
from domain.identity.credentials import email_key
from domain.identity.service import EMAIL_CLAIM
from domain.identity.user import User
from event_sourcing.dynamodb.event_store import stored_json
from event_sourcing.events import EventRegistry, registry
from event_sourcing.personal import PersonalData, is_sealed, personal_fields
from infra.adapters import Adapters

STATES: dict[str, type] = {
    User.stream_prefix: User.state_type,
    Review.stream_prefix: Review.state_type,
}
"""The aggregates whose snapshots hold personal fields, by stream prefix."""
PAGE_ITEMS = 500
ATTEMPTS = 5
"""Tries of a claim's move that DynamoDB cancels for a conflict (another transaction held
one of its items at the time)."""


@dataclass
class Sealed:
    items_read: int = 0
    events: int = 0
    snapshots: int = 0
    claims: int = 0


def seal_stored(root: Adapters, tick: Callable[[int], None]) -> Sealed:
    """Seal every clear personal value of the event table; `tick(n)` after each page read."""
    client, table = root.dynamodb, root.setting("EVENTS_TABLE")
    personal = root.personal_data
    types = [name for name in registry.names() if personal_fields(registry.type_named(name))]
    values = {f":t{i}": {"S": name} for i, name in enumerate(types)}
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": f"(kind = :event AND #type IN ({', '.join(values)})) "
        "OR (kind = :claim AND begins_with(stream_id, :email))",
        "ExpressionAttributeNames": {"#type": "type"},
        "ExpressionAttributeValues": {
            **values,
            ":event": {"S": "event"},
            ":claim": {"S": "claim"},
            ":email": {"S": f"claim#{EMAIL_CLAIM}#"},
        },
        "Limit": PAGE_ITEMS,
    }
    done = Sealed()
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            if item["kind"]["S"] == "claim":
                done.claims += _claim(root, table, item)
            else:
                event, snapshot = _event(client, table, item, personal, registry)
                done.events += event
                done.snapshots += snapshot
        done.items_read += page.get("ScannedCount", 0)
        tick(page.get("ScannedCount", 0))
        if "LastEvaluatedKey" not in page:
            return done
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _event(
    client: Any, table: str, item: Mapping[str, Any], personal: PersonalData, events: EventRegistry
) -> tuple[int, int]:
    stream_id = item["stream_id"]["S"]
    prefix, _, subject = stream_id.partition("-")
    cls = events.type_named(item["type"]["S"])
    data = json.loads(item["data"]["S"])
    sealed_data = _sealed(personal, cls, data, subject)
    state_cls = STATES.get(prefix)
    snapshot = item.get("snapshot", {}).get("M")
    state = json.loads(snapshot["state"]["S"]) if snapshot and state_cls else None
    sealed_state = _sealed(personal, state_cls, state, subject) if state_cls and state else None
    sets, names, values = [], {"#data": "data"}, {":old": item["data"]}
    if sealed_data is not None:
        sets.append("#data = :data")
        values[":data"] = {"S": stored_json(sealed_data)}
    if sealed_state is not None:
        sets.append("#snapshot.#state = :state")
        names |= {"#snapshot": "snapshot", "#state": "state"}
        values[":state"] = {"S": stored_json(sealed_state)}
    if not sets:
        return 0, 0
    try:
        client.update_item(
            TableName=table,
            Key={"stream_id": item["stream_id"], "version": item["version"]},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="#data = :old",  # as read: a rerun finds it sealed already
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except client.exceptions.ConditionalCheckFailedException:
        return 0, 0  # sealed meanwhile by another run (or our own write, its answer lost)
    return int(sealed_data is not None), int(sealed_state is not None)


def _sealed(
    personal: PersonalData, cls: type, data: Mapping[str, Any], default_subject: str
) -> dict[str, Any] | None:
    """`data` with its clear personal values sealed; None when there were none."""
    clear = [
        name
        for name in personal_fields(cls)
        if isinstance(data.get(name), str) and data[name] and not is_sealed(data[name])
    ]
    if not clear:
        return None
    owner_field: str | None = getattr(cls, "subject", None)
    owner = str(data.get(owner_field) or default_subject) if owner_field else default_subject
    return {**data, **{name: personal.seal(owner, data[name]) for name in clear}}


def _claim(root: Adapters, table: str, item: Mapping[str, Any]) -> int:
    value = item["stream_id"]["S"].removeprefix(f"claim#{EMAIL_CLAIM}#")
    if "@" not in value:
        return 0  # a pseudonym already
    pseudonym = root.pseudonyms.of(email_key(value))
    client = root.dynamodb
    moved = {**item, "stream_id": {"S": f"claim#{EMAIL_CLAIM}#{pseudonym}"}}
    for _ in range(ATTEMPTS):
        try:
            _move(client, table, item, moved)
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = {r.get("Code") for r in cancelled.response.get("CancellationReasons", [])}
            if "TransactionConflict" in reasons:  # another writer held an item: again
                continue
            return 0  # moved meanwhile (another run), or released: nothing to move
        return 1
    raise RuntimeError(f"the claim {item['stream_id']['S']!r} kept conflicting: run again")


def _move(client: Any, table: str, item: Mapping[str, Any], moved: Mapping[str, Any]) -> None:
    """The pseudonym's claim put and the clear one deleted, in one transaction."""
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": moved,
                    "ConditionExpression": "attribute_not_exists(stream_id) OR #owner = :owner",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {":owner": item["owner"]},
                }
            },
            {
                "Delete": {
                    "TableName": table,
                    "Key": {"stream_id": item["stream_id"], "version": item["version"]},
                    "ConditionExpression": "#owner = :owner",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {":owner": item["owner"]},
                }
            },
        ]
    )
