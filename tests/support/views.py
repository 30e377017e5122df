"""Views tables in tests: an empty one shaped like another, every item of one, and the
views rebuilt from the event table (what every projection must equal)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Items = dict[tuple[str, str], Any]

_names = itertools.count()


def table_like(client: DynamoDBClient, like: str, name: str | None = None) -> str:
    """A new, empty table with the keys and indexes of `like`."""
    description = client.describe_table(TableName=like)["Table"]
    name = name or f"views-copy-{next(_names)}"
    client.create_table(
        TableName=name,
        KeySchema=description["KeySchema"],
        AttributeDefinitions=description["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": g["IndexName"],
                "KeySchema": g["KeySchema"],
                "Projection": g["Projection"],
            }
            for g in description.get("GlobalSecondaryIndexes", [])
        ],
    )
    return name


def items_of(client: DynamoDBClient, table: str) -> Items:
    """Every item of a views table (a paginated scan, tests only), by (pk, sk); without the
    mark a position carries of the commit that last moved it (unique to each commit, so two
    tables of equal views never share it)."""
    items: Items = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[(item["pk"]["S"], item["sk"]["S"])] = {
                name: value for name, value in item.items() if name != "commit"
            }
    return items


def rebuilt(client: DynamoDBClient, views_table: str) -> Items:
    """The views rebuilt from the event table of the process's container into a fresh
    table shaped like `views_table`."""
    from infra import container as composition

    return rebuilt_from(client, composition.container().setting("EVENTS_TABLE"), views_table)


def rebuilt_from(client: DynamoDBClient, events_table: str, views_table: str) -> Items:
    """Every projection rebuilt from `events_table` into a fresh table shaped like
    `views_table`."""
    from domain.projections import all_projections
    from domain.shared.projector import Projector, rebuild
    from infra.dynamodb.event_store import DynamoDBEventStore
    from infra.dynamodb.views import DynamoDBViewStore

    fresh = table_like(client, views_table)
    rebuild(
        Projector(
            all_projections(),
            DynamoDBEventStore(client, events_table),
            DynamoDBViewStore(client, fresh, consistent_reads=True),
        )
    )
    return items_of(client, fresh)
