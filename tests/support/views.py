"""Views tables in tests: an empty one shaped like another, every item of one, and the
views rebuilt from the event table (what every projection must equal)."""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from event_sourcing.events import EventRegistry

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


GENERATION = re.compile(r"^([\w-]+)\.\d+\|")
"""The prefix of a projection's generation ("catalog.1|", "product-stats.1|")."""


def items_of(client: DynamoDBClient, table: str, *, raw: bool = False) -> Items:
    """Every item of a views table (a paginated scan, tests only), by (pk, sk); without the
    mark a position carries of the commit that last moved it (unique to each commit, so two
    tables of equal views never share it), and, unless `raw`, without the generation
    prefixes of pk and gsi1pk, the generation pointers and the readers' progress (views as
    their readers see them:
    one generation of each projection must then be in the table). A stream's position is
    kept by each projection that follows it: without the prefix, its sk names the
    projection."""
    items: Items = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            kept = {name: value for name, value in item.items() if name != "commit"}
            if not raw:
                if pk.startswith(("projection#", "reader#")):
                    continue
                generation = GENERATION.match(pk)
                pk = GENERATION.sub("", pk)
                kept["pk"] = {"S": pk}
                if generation and pk.startswith("position#"):
                    sk = generation.group(1)
                if "gsi1pk" in kept:
                    kept["gsi1pk"] = {"S": GENERATION.sub("", kept["gsi1pk"]["S"])}
                assert (pk, sk) not in items, f"two generations hold {(pk, sk)}"
            items[(pk, sk)] = kept
    return items


def rebuilt(client: DynamoDBClient, views_table: str) -> Items:
    """The views rebuilt from the event table of the process's container into a fresh
    table shaped like `views_table`."""
    from infra import container as composition

    root = composition.container()
    return rebuilt_from(client, root.setting("EVENTS_TABLE"), views_table, root.repository.events)


def rebuilt_from(
    client: DynamoDBClient,
    events_table: str,
    views_table: str,
    registry: EventRegistry | None = None,
) -> Items:
    """Every projection rebuilt from `events_table` into a fresh table shaped like
    `views_table` (personal fields opened when `registry` seals them)."""
    from domain.projections import all_projections
    from event_sourcing.dynamodb.event_store import DynamoDBEventStore
    from event_sourcing.dynamodb.views import DynamoDBViewStore
    from event_sourcing.projector import Projectors, rebuild

    fresh = table_like(client, views_table)
    rebuild(
        Projectors.first_generation(
            all_projections(),
            DynamoDBEventStore(client, events_table),
            DynamoDBViewStore(client, fresh, consistent_reads=True),
            **({"registry": registry} if registry is not None else {}),
        )
    )
    return items_of(client, fresh)
