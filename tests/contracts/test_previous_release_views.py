"""Tables written by the previous release read through today's code (issue #20, item 8).

- The admin's list of all orders was one partition (`ordering.<n>|orders#all`); it is now
  spread over VIEW_SHARDS partitions, part 0 being that very partition. Entries written
  before read as part 0's, merged with the new ones in the same order, and a cursor
  issued by the previous release continues the list.
- Generation pointers had no `dropping_*` or `drop_after` attributes: they read as none,
  and the next rebuild numbers its generation after every one they name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import Caller, Role
from domain.ordering.order import Order
from domain.ordering.views import ALL_ORDERS, OrderingViews, order_key, orders_of, present_order
from event_sourcing import cursors
from event_sourcing.views import Put, ViewKey
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

GENERATION = "ordering.1|"
ADMIN = Caller("admin-1", Role.ADMIN)


def _order_doc(order_id: str, created_at: str) -> dict[str, object]:
    doc = present_order(Order.blank(order_id))
    return {**doc, "customer_id": "c1", "status": "draft", "created_at": created_at}


def _previous_release_order(client: DynamoDBClient, order_id: str, created_at: str) -> None:
    """An order as the previous release's projector left it: its detail and its entry in
    the one partition of the list of all orders."""
    table = table_name("ViewsTable")
    sort = f"{created_at}#{order_id}"
    client.put_item(
        TableName=table,
        Item={"pk": {"S": f"{GENERATION}{ALL_ORDERS}"}, "sk": {"S": sort}, "id": {"S": order_id}},
    )
    from event_sourcing.dynamodb.views import DynamoDBViewStore

    DynamoDBViewStore(client, table, consistent_reads=True).scoped(GENERATION).commit(
        f"order-{order_id}",
        from_version=0,
        to_version=1,
        changes=[Put(order_key(order_id), _order_doc(order_id, created_at))],
    )


def test_orders_listed_by_the_previous_release_list_with_new_ones_newest_first(
    dynamodb: DynamoDBClient,
) -> None:
    from event_sourcing.dynamodb.views import DynamoDBViewStore

    table = table_name("ViewsTable")
    old = [(f"old{n}", f"2026-11-0{n + 1}T00:00:00.000Z") for n in range(5)]
    for order_id, created_at in old:
        _previous_release_order(dynamodb, order_id, created_at)
    # The previous release's admin had read the first page (its cursor, as it sealed it).
    first_cursor = cursors.seal({"pk": ALL_ORDERS, "sk": f"{old[-1][1]}#{old[-1][0]}"})

    store = DynamoDBViewStore(dynamodb, table, consistent_reads=True)
    views = OrderingViews().views_of(store, GENERATION)
    new = [(f"new{n}", f"2026-12-{n + 10}T00:00:00.000Z") for n in range(12)]
    for order_id, created_at in new:
        sort = f"{created_at}#{order_id}"
        views.commit(
            f"order-{order_id}",
            from_version=0,
            to_version=1,
            changes=[
                Put(order_key(order_id), _order_doc(order_id, created_at)),
                Put(ViewKey(ALL_ORDERS, sort), {"id": order_id}),
            ],
        )
    parts = {
        item["pk"]["S"]
        for item in dynamodb.scan(TableName=table)["Items"]
        if ALL_ORDERS in item["pk"]["S"]
    }
    assert len(parts) > 4, "new entries are spread"

    listed: list[str] = []
    cursor = None
    while True:
        docs, cursor = orders_of(views, ADMIN, None, limit=4, cursor=cursor)
        listed += [d["id"] for d in docs]
        if cursor is None:
            break
    newest_first = [i for i, _ in sorted(old + new, key=lambda o: o[1], reverse=True)]
    assert listed == newest_first

    docs, _ = orders_of(views, ADMIN, None, limit=10, cursor=first_cursor)
    assert [d["id"] for d in docs] == [i for i, _ in reversed(old[:-1])]


def test_a_pointer_written_by_the_previous_release_reads_and_numbers_after_it(
    dynamodb: DynamoDBClient,
) -> None:
    from event_sourcing.dynamodb.generations import DynamoDBGenerations

    table = table_name("ViewsTable")
    dynamodb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "projection#ordering"},
            "sk": {"S": "#"},
            "epoch": {"N": "7"},
            "checkpoint": {"M": {}},
            "live_number": {"N": "3"},
            "live_version": {"N": "2"},
            "retiring_number": {"N": "2"},
            "retiring_version": {"N": "1"},
            "retire_after": {"S": "2026-12-01T00:00:00+00:00"},
        },
    )
    generations = DynamoDBGenerations(dynamodb, table)
    pointer = generations.read([OrderingViews()])["ordering"]
    assert (pointer.live.number, pointer.retiring and pointer.retiring.number) == (3, 2)
    assert (pointer.dropping, pointer.drop_after, pointer.epoch) == (None, None, 7)
    assert pointer.next_number() == 4
    from datetime import UTC, datetime

    retired = pointer.retired(datetime(2026, 12, 2, tzinfo=UTC))
    generations.save(retired, read_at=pointer.epoch)
    assert generations.read([OrderingViews()])["ordering"] == retired
