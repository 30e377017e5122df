"""One contract for the views: the in-memory fake and the DynamoDB table (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.shared.views import Delete, InvalidCursor, PositionMoved, Put, ViewKey, ViewStore
from infra.memory import InMemoryViewStore
from tests.support.tables import table_name


@pytest.fixture(params=["memory", "dynamodb"])
def views(request: pytest.FixtureRequest) -> Iterator[ViewStore]:
    if request.param == "memory":
        yield InMemoryViewStore()
        return
    from infra.dynamodb.views import DynamoDBViewStore

    yield DynamoDBViewStore(
        request.getfixturevalue("dynamodb"), table_name("ViewsTable"), consistent_reads=True
    )


def test_a_document_reads_back_as_written(views: ViewStore) -> None:
    doc = {"id": "u1", "n": 3, "ok": True, "none": None, "tags": ["a", "b"], "m": {"k": "v"}}
    views.commit("s", from_version=0, to_version=1, changes=[Put(ViewKey("user#u1", "p"), doc)])
    assert views.get(ViewKey("user#u1", "p")) == doc
    assert views.get(ViewKey("user#u2", "p")) is None


def test_changes_and_position_move_together(views: ViewStore) -> None:
    key = ViewKey("k")
    views.commit("s", from_version=0, to_version=3, changes=[Put(key, {"v": 1})])
    assert views.position("s") == 3
    with pytest.raises(PositionMoved):
        views.commit("s", from_version=2, to_version=4, changes=[Put(key, {"v": 2})])
    assert views.get(key) == {"v": 1}
    views.commit("s", from_version=3, to_version=4, changes=[Delete(key)])
    assert views.get(key) is None
    assert views.position("s") == 4
    assert views.position("other") == 0


def _fill(views: ViewStore, count: int) -> None:
    for n in range(count):
        views.commit(
            f"s{n}",
            from_version=0,
            to_version=1,
            changes=[
                Put(
                    ViewKey(f"order#{n:03d}"),
                    {"n": n, "gsi1pk": "customer#c1", "gsi1sk": f"{n:03d}"},
                )
            ],
        )


@pytest.mark.parametrize("descending", [False, True])
def test_an_index_query_pages_through_everything_once(views: ViewStore, descending: bool) -> None:
    _fill(views, 7)
    seen: list[int] = []
    cursor = None
    while True:
        page = views.query(
            "customer#c1", index="gsi1", limit=3, cursor=cursor, descending=descending
        )
        seen += [doc["n"] for doc in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == sorted(range(7), reverse=descending)


def test_a_forged_cursor_is_refused(views: ViewStore) -> None:
    _fill(views, 5)
    page = views.query("customer#c1", index="gsi1", limit=2)
    assert page.cursor
    for forged in ["garbage!", "e30", page.cursor[:-3] + "xyz"]:
        with pytest.raises(InvalidCursor):
            views.query("customer#c1", index="gsi1", limit=2, cursor=forged)
    with pytest.raises(InvalidCursor):
        views.query("customer#c2", index="gsi1", limit=2, cursor=page.cursor)


def test_a_partition_query_reads_only_that_partition(views: ViewStore) -> None:
    views.commit(
        "s",
        from_version=0,
        to_version=1,
        changes=[
            Put(ViewKey("p1", "b"), {"x": 2}),
            Put(ViewKey("p1", "a"), {"x": 1}),
            Put(ViewKey("p2", "a"), {"x": 9}),
        ],
    )
    assert [d["x"] for d in views.query("p1").items] == [1, 2]
