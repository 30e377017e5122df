"""The views table keeps the shape the DynamoDB adapter has always written: a document at
`ViewKey(collection, id)` is the item (pk, sk), its `Listing(name, sort)` the attributes
gsi1pk and gsi1sk (the keys of the index gsi1), a generation's prefix on pk and gsi1pk.

Items written in that shape before the kit named collections and listings (issue #19),
when documents carried gsi1pk and gsi1sk among their fields and queries named the index,
read, list and page the same through today's API, cursors issued then included; today's
writes store those very items; and the catalogue answers the same JSON from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from event_sourcing import cursors
from event_sourcing.views import Listing, Put, ViewKey
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from event_sourcing.dynamodb.views import DynamoDBViewStore

GENERATION = "catalog.1|"

BOOKS: dict[str, Any] = {
    "id": "c1",
    "name": "Books",
    "allows_products": True,
    "premium": False,
    "created_at": "2026-01-01T00:00:00.000Z",
    "version": 1,
}
GARDEN: dict[str, Any] = {**BOOKS, "id": "c2", "name": "Garden", "premium": True}
ENTRY = {"id": "p1", "sort": "clean code#p1", "price_cents": 2500}
TRIGRAM = {"id": "p1", "sort": "clean code#p1"}


def _category_item(doc: dict[str, Any], sort: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"{GENERATION}category#{doc['id']}"},
        "sk": {"S": "detail"},
        "gsi1pk": {"S": f"{GENERATION}categories"},
        "gsi1sk": {"S": sort},
        "id": {"S": doc["id"]},
        "name": {"S": doc["name"]},
        "allows_products": {"BOOL": doc["allows_products"]},
        "premium": {"BOOL": doc["premium"]},
        "created_at": {"S": doc["created_at"]},
        "version": {"N": str(doc["version"])},
    }


STORED = [
    # As the adapter wrote them before: the category documents of the catalogue's first
    # generation (their fields gsi1pk/gsi1sk, prefixed), a listing entry, a trigram entry.
    _category_item(GARDEN, "garden#c2"),
    _category_item(BOOKS, "books#c1"),
    {
        "pk": {"S": f"{GENERATION}search#all"},
        "sk": {"S": "clean code#p1"},
        "id": {"S": "p1"},
        "sort": {"S": "clean code#p1"},
        "price_cents": {"N": "2500"},
    },
    {
        "pk": {"S": f"{GENERATION}search#tri#cle"},
        "sk": {"S": "clean code#p1"},
        "id": {"S": "p1"},
        "sort": {"S": "clean code#p1"},
    },
]

OLD_CURSOR = cursors.seal(
    {"pk": "category#c1", "sk": "detail", "gsi1pk": "categories", "gsi1sk": "books#c1"}
)
"""What `query("categories", index="gsi1", limit=1)` answered as its cursor before."""


def _views(client: DynamoDBClient) -> DynamoDBViewStore:
    from event_sourcing.dynamodb.views import DynamoDBViewStore

    table = table_name("ViewsTable")
    return DynamoDBViewStore(client, table, consistent_reads=False).scoped(GENERATION)


def _store_old_items(client: DynamoDBClient) -> None:
    for item in STORED:
        client.put_item(TableName=table_name("ViewsTable"), Item=item)


def _items(client: DynamoDBClient) -> list[dict[str, Any]]:
    """Every item of the views table but the positions, the commit's mark aside."""
    pages = client.get_paginator("scan").paginate(TableName=table_name("ViewsTable"))
    items = [item for page in pages for item in page["Items"]]
    return [i for i in items if not i["pk"]["S"].startswith(f"{GENERATION}position#")]


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def test_documents_stored_before_read_list_and_page_the_same(dynamodb: DynamoDBClient) -> None:
    _store_old_items(dynamodb)
    views = _views(dynamodb)

    assert views.get(ViewKey("category#c1", "detail")) == BOOKS
    both = [ViewKey("category#c1", "detail"), ViewKey("category#c2", "detail")]
    assert views.get_many(both) == {both[0]: BOOKS, both[1]: GARDEN}
    assert views.listing("categories").items == [BOOKS, GARDEN]
    assert views.listing("categories", descending=True).items == [GARDEN, BOOKS]
    first = views.listing("categories", limit=1)
    assert (first.items, first.cursor) == ([BOOKS], OLD_CURSOR)
    assert views.listing("categories", cursor=first.cursor).items == [GARDEN]
    assert views.query("search#all").items == [ENTRY]
    assert views.query("search#all", after="b").items == [ENTRY]
    assert views.query("search#tri#cle", after="clean code#p1").items == []
    assert views.query("categories").items == []  # a listing is no collection


def test_a_cursor_issued_before_continues(dynamodb: DynamoDBClient) -> None:
    _store_old_items(dynamodb)
    assert _views(dynamodb).listing("categories", cursor=OLD_CURSOR).items == [GARDEN]


LISTED_BOOKS = Listing("categories", "books#c1")
LISTED_GARDEN = Listing("categories", "garden#c2")


def test_todays_writes_store_the_items_written_before(dynamodb: DynamoDBClient) -> None:
    _views(dynamodb).commit(
        "s",
        from_version=0,
        to_version=1,
        changes=[
            Put(ViewKey("category#c2", "detail"), GARDEN, listed=LISTED_GARDEN),
            Put(ViewKey("category#c1", "detail"), BOOKS, listed=LISTED_BOOKS),
            Put(ViewKey("search#all", "clean code#p1"), ENTRY),
            Put(ViewKey("search#tri#cle", "clean code#p1"), TRIGRAM, ahead=True),
        ],
    )
    assert sorted(_items(dynamodb), key=_key) == sorted(STORED, key=_key)


def test_the_catalogue_projects_and_answers_categories_as_before(
    dynamodb: DynamoDBClient,
) -> None:
    from datetime import UTC, datetime

    from domain.catalog.category import CategoryCreated
    from domain.catalog.views import CatalogViews, all_categories, category_view
    from event_sourcing.dynamodb.views import DynamoDBViewStore
    from event_sourcing.events import registry
    from event_sourcing.projector import Projectors
    from event_sourcing.testing.builders import recorded
    from event_sourcing.testing.memory import InMemoryEventStore

    at = datetime(2026, 1, 1, tzinfo=UTC)
    views = DynamoDBViewStore(dynamodb, table_name("ViewsTable"), consistent_reads=True)
    projectors = Projectors.first_generation([CatalogViews()], InMemoryEventStore(), views)
    for doc in (GARDEN, BOOKS):
        created = CategoryCreated(doc["id"], doc["name"], True, doc["premium"], at)
        type_name, _, data = registry.encode(created)
        projectors.project(recorded(f"category-{doc['id']}", 1, type_name, data))
    assert sorted(_items(dynamodb), key=_key) == sorted(STORED[:2], key=_key)

    # The answers of GET /categories and GET /categories/{id}, no stored attribute in them.
    counted = {"product_count": 0}
    page = all_categories(_views(dynamodb), limit=1, cursor=None)
    assert (page.items, page.cursor) == ([BOOKS | counted], OLD_CURSOR)
    rest = all_categories(_views(dynamodb), limit=20, cursor=OLD_CURSOR)
    assert (rest.items, rest.cursor) == ([GARDEN | counted], None)
    assert category_view(_views(dynamodb), "c2") == GARDEN | counted
