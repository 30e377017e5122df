"""The contract every view store passes: the in-memory fake, DynamoDB, and DynamoDB losing
every ack."""

from __future__ import annotations

import pytest

from event_sourcing.views import (
    Delete,
    Increment,
    InvalidCursor,
    Listing,
    PositionMoved,
    Put,
    ViewKey,
    ViewStore,
)


def _fill(views: ViewStore, count: int) -> None:
    for n in range(count):
        views.commit(
            f"s{n}",
            from_version=0,
            to_version=1,
            changes=[
                Put(
                    ViewKey(f"order#{n:03d}"),
                    {"n": n},
                    listed=Listing("customer#c1", f"{n:03d}"),
                )
            ],
        )


class ViewStoreContract:
    """What every `ViewStore` keeps: changes and positions move together, pages and cursors,
    listings, changes written ahead of a commit, scoped generations and guarded commits.

    Subclass it in a test module with a `views` fixture that yields the adapter
    under test (a `ViewStore`), once per variant (the fake, DynamoDB, DynamoDB losing
    every ack), and `put_outside_scope`."""

    def put_outside_scope(self, views: ViewStore, key: ViewKey, doc: dict[str, int]) -> None:
        """Write `doc` at `key` of the store's table as a generations registry does: outside
        any scope and any commit (a generation pointer's epoch)."""
        raise NotImplementedError("the adapter's test module says how")

    def test_a_document_reads_back_as_written(self, views: ViewStore) -> None:
        doc = {"id": "u1", "n": 3, "ok": True, "none": None, "tags": ["a", "b"], "m": {"k": "v"}}
        views.commit("s", from_version=0, to_version=1, changes=[Put(ViewKey("user#u1", "p"), doc)])
        assert views.get(ViewKey("user#u1", "p")) == doc
        assert views.get(ViewKey("user#u2", "p")) is None

    def test_changes_and_position_move_together(self, views: ViewStore) -> None:
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

    @pytest.mark.parametrize("descending", [False, True])
    def test_a_listing_pages_through_everything_once(
        self, views: ViewStore, descending: bool
    ) -> None:
        _fill(views, 7)
        seen: list[int] = []
        cursor = None
        while True:
            page = views.listing("customer#c1", limit=3, cursor=cursor, descending=descending)
            seen += [doc["n"] for doc in page.items]
            cursor = page.cursor
            if cursor is None:
                break
        assert seen == sorted(range(7), reverse=descending)

    def test_a_listing_follows_its_documents(self, views: ViewStore) -> None:
        key = ViewKey("order#1")
        views.commit(
            "s",
            from_version=0,
            to_version=1,
            changes=[Put(key, {"v": 1}, listed=Listing("customer#c1", "b"))],
        )
        assert views.get(key) == {"v": 1}  # a document reads back without its listing
        assert views.listing("customer#c1").items == [{"v": 1}]
        assert views.query("customer#c1").items == []  # listings are not collections
        views.commit(
            "s",
            from_version=1,
            to_version=2,
            changes=[Put(key, {"v": 2}, listed=Listing("customer#c2", "a"))],
        )
        assert views.listing("customer#c1").items == []
        assert views.listing("customer#c2").items == [{"v": 2}]
        views.commit("s", from_version=2, to_version=3, changes=[Put(key, {"v": 3})])
        assert views.listing("customer#c2").items == []
        views.commit(
            "s",
            from_version=3,
            to_version=4,
            changes=[Put(key, {"v": 4}, listed=Listing("customer#c1", "a"))],
        )
        views.commit("s", from_version=4, to_version=5, changes=[Delete(key)])
        assert views.listing("customer#c1").items == []

    def test_a_forged_cursor_is_refused(self, views: ViewStore) -> None:
        _fill(views, 5)
        page = views.listing("customer#c1", limit=2)
        assert page.cursor
        for forged in ["garbage!", "e30", page.cursor[:-3] + "xyz"]:
            with pytest.raises(InvalidCursor):
                views.listing("customer#c1", limit=2, cursor=forged)
        with pytest.raises(InvalidCursor):
            views.listing("customer#c2", limit=2, cursor=page.cursor)
        with pytest.raises(InvalidCursor):
            views.query("customer#c1", limit=2, cursor=page.cursor)

    def test_a_collection_query_reads_only_that_collection(self, views: ViewStore) -> None:
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

    def test_increments_add_up_and_create_the_document(self, views: ViewStore) -> None:
        key = ViewKey("category#c1", "count")
        views.commit("p1", from_version=0, to_version=1, changes=[Increment(key, {"active": 1})])
        views.commit(
            "p2", from_version=0, to_version=1, changes=[Increment(key, {"active": 1, "all": 2})]
        )
        views.commit("p1", from_version=1, to_version=2, changes=[Increment(key, {"active": -1})])
        assert views.get(key) == {"active": 1, "all": 2}

    def test_changes_ahead_land_with_the_commit_even_past_its_atomic_bound(
        self, views: ViewStore
    ) -> None:
        entries = [
            Put(ViewKey(f"search#tri#{n:03d}", "name#p1"), {"id": "p1"}, ahead=True)
            for n in range(150)
        ]
        views.commit(
            "p1", from_version=0, to_version=1, changes=[*entries, Put(ViewKey("p1"), {"v": 1})]
        )
        assert views.get(ViewKey("search#tri#149", "name#p1")) == {"id": "p1"}
        removals = [
            Delete(ViewKey(f"search#tri#{n:03d}", "name#p1"), ahead=True) for n in range(150)
        ]
        views.commit("p1", from_version=1, to_version=2, changes=removals)
        assert views.get(ViewKey("search#tri#000", "name#p1")) is None
        assert views.position("p1") == 2

    def test_increments_ahead_add_past_the_atomic_bound(self, views: ViewStore) -> None:
        counters = [ViewKey(f"search#count#{n:03d}") for n in range(120)]
        for version in range(2):
            views.commit(
                f"p{version}",
                from_version=0,
                to_version=1,
                changes=[Increment(k, {"products": 1}, ahead=True) for k in counters],
            )
        views.commit(
            "p0",
            from_version=1,
            to_version=2,
            changes=[Increment(counters[0], {"products": -1}, ahead=True)],
        )
        assert views.get(counters[0]) == {"products": 1}
        assert views.get(counters[119]) == {"products": 2}

    def test_changes_ahead_are_refused_from_a_stale_position(self, views: ViewStore) -> None:
        views.commit("p1", from_version=0, to_version=3, changes=[])
        with pytest.raises(PositionMoved):
            views.commit(
                "p1", from_version=1, to_version=2, changes=[Put(ViewKey("x"), {}, ahead=True)]
            )
        assert views.get(ViewKey("x")) is None

    def test_get_many_returns_what_exists(self, views: ViewStore) -> None:
        keys = [ViewKey(f"k{n}") for n in range(130)]
        views.commit(
            "s",
            from_version=0,
            to_version=1,
            changes=[Put(k, {"n": i}) for i, k in enumerate(keys[:90])],
        )
        found = views.get_many([*keys, keys[0]])
        assert len(found) == 90
        assert found[keys[89]] == {"n": 89}

    def test_a_table_query_can_start_after_a_sort_key(self, views: ViewStore) -> None:
        views.commit(
            "s",
            from_version=0,
            to_version=1,
            changes=[Put(ViewKey("p", f"{c}#1"), {"c": c}) for c in "abcde"],
        )
        assert [d["c"] for d in views.query("p", after="b#1", limit=2).items] == ["c", "d"]
        assert [d["c"] for d in views.query("p", after="d#1", descending=True).items] == [
            "c",
            "b",
            "a",
        ]

    def test_scoped_stores_see_only_their_own_documents_positions_and_listings(
        self,
        views: ViewStore,
    ) -> None:
        blue, green = views.scoped("catalog.1|"), views.scoped("catalog.2|")
        doc = {"n": 1}
        listed = Listing("customer#c1", "001")
        put = Put(ViewKey("order#1"), doc, listed=listed)
        blue.commit("s", from_version=0, to_version=1, changes=[put])
        assert blue.get(ViewKey("order#1")) == doc
        assert blue.get_many([ViewKey("order#1")]) == {ViewKey("order#1"): doc}
        assert [d["n"] for d in blue.listing("customer#c1").items] == [1]
        assert green.get(ViewKey("order#1")) is None
        assert green.listing("customer#c1").items == []
        assert views.listing("customer#c1").items == []
        assert views.get(ViewKey("order#1")) is None
        assert (blue.position("s"), green.position("s"), views.position("s")) == (1, 0, 0)

    def test_a_cursor_continues_in_another_generation_of_the_same_views(
        self, views: ViewStore
    ) -> None:
        blue, green = views.scoped("ordering.1|"), views.scoped("ordering.2|")
        _fill(blue, 5)
        _fill(green, 5)
        page = blue.listing("customer#c1", limit=2)
        rest = green.listing("customer#c1", limit=10, cursor=page.cursor)
        assert [d["n"] for d in page.items + rest.items] == list(range(5))
        listed = blue.query("order#001", limit=1)
        assert listed.items

    def test_a_guarded_commit_lands_only_while_the_guard_holds(self, views: ViewStore) -> None:
        from event_sourcing.views import GenerationsChanged, Guard

        pointer = ViewKey("projection#catalog", "#")
        fresh = Guard(pointer, 0)
        views.commit(
            "s", from_version=0, to_version=1, changes=[Put(ViewKey("a"), {})], guard=fresh
        )
        self.put_outside_scope(views, pointer, {"epoch": 2})
        with pytest.raises(GenerationsChanged):
            views.commit(
                "s", from_version=1, to_version=2, changes=[Put(ViewKey("b"), {})], guard=fresh
            )
        assert views.get(ViewKey("b")) is None
        assert views.position("s") == 1
        now = Guard(pointer, 2)
        views.commit("s", from_version=1, to_version=2, changes=[Put(ViewKey("b"), {})], guard=now)
        assert views.position("s") == 2

    def test_a_spread_collection_reads_as_the_whole_collection_would(
        self, views: ViewStore
    ) -> None:
        whole = views.scoped("ordering.1|")
        spread = views.scoped("ordering.2|").spreading(["orders#all"], 4)
        ids = [f"2026-12-0{n % 9 + 1}T00:00:{n:02d}#o{n:03d}" for n in range(37)]
        for n, id in enumerate(ids):
            change = Put(ViewKey("orders#all", id), {"id": f"o{n:03d}"})
            for store in (whole, spread):
                store.commit(f"order-{n}", from_version=0, to_version=1, changes=[change])
        for descending in (True, False):
            pages: list[list[list[str]]] = [[], []]
            for i, store in enumerate((whole, spread)):
                cursor = None
                while True:
                    page = store.query("orders#all", limit=5, cursor=cursor, descending=descending)
                    pages[i].append([d["id"] for d in page.items])
                    cursor = page.cursor
                    if cursor is None:
                        break
            assert [id for page in pages[1] for id in page] == [
                f"o{n:03d}"
                for _, n in sorted(((id, n) for n, id in enumerate(ids)), reverse=descending)
            ]
            assert [p for p in pages[1] if p] == [p for p in pages[0] if p]
        middle = sorted(ids)[20]
        assert (
            spread.query("orders#all", limit=3, after=middle).items
            == whole.query("orders#all", limit=3, after=middle).items
        )
        assert spread.get(ViewKey("orders#all", ids[3])) == {"id": "o003"}
        found = spread.get_many([ViewKey("orders#all", id) for id in ids[:10]])
        assert found == {
            ViewKey("orders#all", id): {"id": f"o{n:03d}"} for n, id in enumerate(ids[:10])
        }
        spread.commit(
            "order-0", from_version=1, to_version=2, changes=[Delete(ViewKey("orders#all", ids[0]))]
        )
        assert spread.get(ViewKey("orders#all", ids[0])) is None
        assert len(spread.query("orders#all", limit=100).items) == 36

    def test_a_cursor_of_a_spread_collection_continues_in_another_generation(
        self, views: ViewStore
    ) -> None:
        blue = views.scoped("ordering.1|").spreading(["orders#all"], 3)
        green = views.scoped("ordering.2|").spreading(["orders#all"], 3)
        for store in (blue, green):
            changes = [Put(ViewKey("orders#all", f"{n:03d}"), {"n": n}) for n in range(9)]
            store.commit("s", from_version=0, to_version=1, changes=changes)
        page = blue.query("orders#all", limit=4, descending=True)
        rest = green.query("orders#all", limit=10, cursor=page.cursor, descending=True)
        assert [d["n"] for d in page.items + rest.items] == list(range(8, -1, -1))
        assert rest.cursor is None
