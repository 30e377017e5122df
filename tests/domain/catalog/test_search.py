"""Search with a bounded cost (domain/catalog/search.py, the reads of domain/catalog/views.py):
the trigram read is the one with the fewest products by the projection's counters; a page
examines at most `SCAN` entries and answers an honest cursor; a total is exact up to
`TOTAL_BOUND` entries, then a lower bound; text is folded with Unicode normalisation and
case folding in the index and the query alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access import CommandContext
from domain.catalog import search
from domain.catalog.category import Category
from domain.catalog.product import Product
from domain.catalog.views import (
    CatalogViews,
    Total,
    chosen_collection,
    count_products,
    product_key,
    search_products,
)
from event_sourcing.generations import Pointer
from event_sourcing.projector import Projectors, rebuild
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.testing.memory import (
    InMemoryEventStore,
    InMemoryViewStore,
    ManualClock,
    SequentialIds,
)
from event_sourcing.views import Doc, Page, ViewKey, ViewReader

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONTEXT = CommandContext("test", "test")


class CountingReader(ViewReader):
    """The views as a query function reads them, counting entries and documents read."""

    def __init__(self, inner: ViewReader) -> None:
        self.inner = inner
        self.entries = 0
        self.documents: Counter[str] = Counter()
        self.queried: list[str] = []

    def get(self, key: ViewKey) -> Doc | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        # Product documents as "detail" (ratings as "rating"), counters as "search".
        self.documents.update(
            k.id if k.collection.startswith("product#") else k.collection.split("#")[0]
            for k in keys
        )
        return self.inner.get_many(keys)

    def query(
        self,
        collection: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        page = self.inner.query(
            collection, limit=limit, cursor=cursor, descending=descending, after=after
        )
        self.entries += len(page.items)
        self.queried.append(collection)
        return page

    def listing(
        self, name: str, *, limit: int = 20, cursor: str | None = None, descending: bool = False
    ) -> Page:
        return self.inner.listing(name, limit=limit, cursor=cursor, descending=descending)


@dataclass
class Shop:
    """A catalogue recorded by the aggregates and projected by the real projection."""

    events: InMemoryEventStore = field(default_factory=InMemoryEventStore)
    store: InMemoryViewStore = field(default_factory=InMemoryViewStore)
    products: dict[str, Product] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.repository = EventSourcedRepository(self.events, ManualClock(), SequentialIds())
        self.category = Category.create(self.repository.ids.new_id(), "All", True, False, NOW)
        self.repository.save(self.category, context=CONTEXT)
        self.projectors = Projectors.first_generation([CatalogViews()], self.events, self.store)

    def add(self, name: str, description: str = "", price: str = "10.00") -> str:
        product = Product.create(
            self.repository.ids.new_id(),
            name,
            description or "a thing",
            Decimal(price),
            self.category,
            "admin",
            NOW,
        )
        product.activate("admin", NOW)
        self.repository.save(product, context=CONTEXT)
        self.products[name] = product
        return product.id

    def deactivate(self, name: str) -> None:
        product = self.products[name]
        product.deactivate("admin", "recalled", NOW)
        self.repository.save(product, context=CONTEXT)

    def project(self) -> None:
        rebuild(self.projectors)

    @property
    def views(self) -> InMemoryViewStore:
        return self.store.scoped(Pointer.initial(CatalogViews()).live.prefix)

    def reader(self) -> CountingReader:
        return CountingReader(self.views)

    def count(self, trigram: str) -> int | None:
        doc = self.views.get(search.count_key(trigram))
        return None if doc is None else int(doc["products"])

    def every_page(
        self, criteria: search.Criteria, limit: int
    ) -> tuple[list[str], list[CountingReader], list[int]]:
        """The names of every page in order, each page's reader and size."""
        names: list[str] = []
        readers: list[CountingReader] = []
        sizes: list[int] = []
        after = collection = None
        while True:
            reader = self.reader()
            page = search_products(
                reader, criteria, limit=limit, after=after, collection=collection
            )
            names += [p["name"] for p in page.items]
            readers.append(reader)
            sizes.append(len(page.items))
            if page.last_sort is None:
                return names, readers, sizes
            after, collection = page.last_sort, page.collection


def test_the_trigram_read_is_the_one_with_the_fewest_products_by_count() -> None:
    criteria = search.Criteria("quiz")
    # By letters alone, 'uiz' (z is the rarest letter); by count, 'qui'.
    assert criteria.collection() == search.trigram_collection("uiz")
    assert criteria.collection({"qui": 2, "uiz": 40}) == search.trigram_collection("qui")
    # A trigram no product holds (no counter) is the cheapest read of all: an empty one.
    assert criteria.collection({"qui": 2}) == search.trigram_collection("uiz")
    assert search.Criteria("qu").collection({"qu ": 1}) == search.ALL
    assert search.Criteria("qu", "c1").collection() == search.category_collection("c1")


def test_a_long_query_probes_a_bounded_number_of_trigrams() -> None:
    long = "the quick brown fox jumps over the lazy dog " * 2
    probed = search.probes(long)
    assert len(probed) == search.PROBES < len(search.trigrams(long))
    assert set(probed) <= search.trigrams(long)
    assert search.probes("ab") == []


def test_the_projection_counts_each_trigrams_active_products() -> None:
    shop = Shop()
    for n in range(3):
        shop.add(f"Quiz {n}")
    for n in range(5):
        shop.add(f"Fuiz {n}", "a xuiz")
    shop.project()
    assert (shop.count("qui"), shop.count("uiz"), shop.count("fui")) == (3, 8, 5)
    assert shop.count("zzz") is None
    shop.deactivate("Quiz 0")
    shop.project()
    assert (shop.count("qui"), shop.count("uiz")) == (2, 7)
    for n in range(1, 3):
        shop.deactivate(f"Quiz {n}")
    shop.project()
    assert shop.count("qui") == 0


def test_a_search_reads_the_rarest_trigram_by_count_not_by_letters() -> None:
    shop = Shop()
    shop.add("Quiz night", "questions")
    for n in range(30):
        shop.add(f"Fuiz {n:02d}", "a xuiz")
    shop.project()
    reader = shop.reader()
    page = search_products(reader, search.Criteria("quiz"), limit=20, after=None)
    assert [p["name"] for p in page.items] == ["Quiz night"]
    assert reader.queried == [search.trigram_collection("qui")]
    assert reader.entries == 1
    assert reader.documents["search"] == len(search.probes("quiz")), "one read of the counts"


def test_an_absent_term_reads_an_empty_collection() -> None:
    shop = Shop()
    for n in range(30):
        shop.add(f"Zone {n:02d}", "zero")
    shop.project()
    reader = shop.reader()
    page = search_products(reader, search.Criteria("zonk"), limit=20, after=None)
    assert (page.items, page.last_sort, reader.entries) == ([], None, 0)


def test_counters_saturate_and_are_then_never_written() -> None:
    assert search.recount({"abc": 4, "the": search.SATURATED}, 1) == ["abc"]
    assert search.recount({"abc": 1, "the": search.SATURATED + 2}, -1) == ["abc"]
    assert search.recount({"abc": 0}, -1) == [], "no counter (a generation before counts)"
    assert search.recount({"abc": search.SATURATED - 1}, 1) == ["abc"]


def test_a_page_examines_at_most_scan_entries_and_answers_a_cursor_after_them() -> None:
    shop = Shop()
    # 250 products hold every trigram of 'zone zero' ('zone one zero'); the phrase is in
    # three, named so that they come after the first 100 entries by name.
    for n in range(250):
        words = "zone zero" if n in (120, 180, 249) else "zone one zero"
        shop.add(f"Item {n:03d}", f"a {words}")
    shop.project()
    names, readers, sizes = shop.every_page(search.Criteria("zone zero"), limit=2)
    assert names == ["Item 120", "Item 180", "Item 249"]
    assert sizes[0] == 0, "the first page examined 100 entries, none matching"
    assert all(r.entries <= search.SCAN for r in readers)
    assert all(r.documents["detail"] <= search.SCAN for r in readers)


def test_paging_a_bounded_search_answers_every_match_once() -> None:
    shop = Shop()
    for n in range(230):
        shop.add(f"Item {n:03d}", "a zone one zero" if n % 3 else "a zone zero")
    shop.project()
    expected = [f"Item {n:03d}" for n in range(230) if not n % 3]
    for limit in (1, 7, 50, 100):
        names, readers, _ = shop.every_page(search.Criteria("zone zero"), limit=limit)
        assert names == expected, limit
        assert all(r.entries <= search.SCAN for r in readers)


def test_a_listing_refused_by_price_is_bounded_too() -> None:
    shop = Shop()
    for n in range(220):
        shop.add(f"Item {n:03d}", price="99.00" if n == 210 else "5.00")
    shop.project()
    criteria = search.Criteria(min_price=Decimal(50))
    names, readers, sizes = shop.every_page(criteria, limit=20)
    assert names == ["Item 210"]
    assert sizes[:2] == [0, 0]
    assert all(r.entries <= search.SCAN for r in readers)
    assert all(r.documents["detail"] == 0 for r in readers[:2]), "refused by entry alone"
    names, readers, _ = shop.every_page(search.Criteria(), limit=100)
    assert len(names) == 220
    assert all(r.entries <= search.PAGE + 1 for r in readers)


def test_a_total_is_exact_up_to_the_bound_then_a_lower_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = Shop()
    for n in range(30):
        shop.add(f"Item {n:03d}", "a zone zero" if n % 2 else "a zone one zero")
    shop.project()
    criteria = search.Criteria("zone zero")
    assert count_products(shop.views, criteria) == Total(15, True)
    assert count_products(shop.views, search.Criteria()).count == 30
    monkeypatch.setattr(search, "TOTAL_BOUND", 10)
    reader = shop.reader()
    total = count_products(reader, criteria)
    assert total == Total(5, False), "the matches among the first 10"
    assert reader.entries <= 11
    assert reader.documents["detail"] <= 10
    assert count_products(shop.views, search.Criteria()) == Total(10, False)
    assert count_products(shop.views, search.Criteria("zonk")) == Total(0, True)
    monkeypatch.setattr(search, "TOTAL_BOUND", 30)
    assert count_products(shop.views, search.Criteria()) == Total(30, True)


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("Café Noir", "CAFÉ"),
        ("Cafe\u0301 Noir", "CAFÉ"),
        ("Café Noir", "cafe\u0301"),
        ("CAFE\u0301 NOIR", "café n"),
        ("Straße", "STRASSE"),
        ("\ufb01ne paper", "fine"),
        ("\uff21\uff22\uff23 blocks", "abc"),
    ],
)
def test_search_folds_unicode_in_the_index_and_the_query(stored: str, query: str) -> None:
    shop = Shop()
    shop.add(stored, "plain")
    shop.add("Other", f"a {stored} in the text")
    shop.add("Unrelated", "nothing")
    shop.project()
    page = search_products(shop.views, search.Criteria(query), limit=20, after=None)
    assert sorted(p["name"] for p in page.items) == sorted(["Other", stored])
    assert count_products(shop.views, search.Criteria(query)) == Total(2, True)


def test_fold_composes_and_case_folds() -> None:
    assert search.fold("CAFÉ") == search.fold("cafe\u0301") == "café"
    assert search.fold("Straße") == "strasse"
    assert search.trigrams("CAFE\u0301") == {"caf", "afé"}


def test_a_generation_without_counts_answers_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """Views of the previous release (no counters) until a rebuild: the search reads the
    trigram of rarest letters, as it did, and answers the same."""
    shop = Shop()
    shop.add("Quiz night", "questions")
    for n in range(5):
        shop.add(f"Fuiz {n}", "a xuiz")
    shop.project()
    for key in [
        k for k in shop.store._docs if k.collection.split("|")[-1].startswith("search#count#")
    ]:
        del shop.store._docs[key]
    assert chosen_collection(shop.views, search.Criteria("quiz")) == search.trigram_collection(
        "uiz"
    )
    page = search_products(shop.views, search.Criteria("quiz"), limit=20, after=None)
    assert [p["name"] for p in page.items] == ["Quiz night"]
    shop.deactivate("Quiz night")
    shop.project()  # a counter missing is not taken below zero
    assert shop.count("qui") is None
    assert shop.views.get(product_key(shop.products["Quiz night"].id)) is not None
    assert search_products(shop.views, search.Criteria("quiz"), limit=20, after=None).items == []
