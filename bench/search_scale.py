"""Read units of `GET /products` at 1,000 and 100,000 products: a rare, a common and an
absent term, a phrase of common words that few products hold, and the unfiltered listing,
each a first page and then with `with_total=true`.

The catalogue is planned in memory (names and 20-word descriptions, seeded) and each
product's activation is applied by the real projection (`CatalogViews.apply`), so every
item written is the one the projector writes; but only the partitions the measured
queries read are written to the views table (moto): the counters of the queries'
trigrams, the collections they choose, the listing `search#all`, and the documents of the
products in them. That the loader's items equal the real projector's on those partitions
is checked on a small catalogue (`faithful`)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.search import WORDS
from bench.units import ReadUnits
from domain.catalog import search
from domain.catalog.category import CategoryCreated
from domain.catalog.product import ProductActivated, ProductCreated
from domain.catalog.views import (
    CatalogViews,
    chosen_collection,
    count_products,
    product_key,
    search_products,
)
from event_sourcing.dynamodb.views import DynamoDBViewStore
from event_sourcing.events import Metadata, RecordedEvent
from event_sourcing.generations import Pointer
from event_sourcing.views import (
    Change,
    Delete,
    Doc,
    Increment,
    Listing,
    Page,
    Put,
    ViewKey,
    ViewReader,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SIZES = (1_000, 100_000)
FIDELITY_SIZE = 24
SEED = 20_261_206
LIMIT = 20
RARE = "jukebox"
"""In three descriptions (its trigram 'juk' in no word of `WORDS`)."""
COMMON = "zone"
"""In every eighth description (and in about one in twenty more, drawn from `WORDS`)."""
PHRASE = "zone zero"
"""In three descriptions only, but each of its trigrams is in every eighth ('zone one
zero'): the worst case, a page that examines its bound of entries and finds few."""
ABSENT = "quixotic"
CATEGORY = "c-all"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
QUERIES = {
    f"rare term `q={RARE}` (3 products)": search.Criteria(RARE),
    f"common term `q={COMMON}`": search.Criteria(COMMON),
    f"absent term `q={ABSENT}`": search.Criteria(ABSENT),
    f"common words, rare phrase `q={PHRASE}` (3 products)": search.Criteria(PHRASE),
    "unfiltered listing": search.Criteria(),
}


@dataclass(frozen=True)
class Planned:
    product_id: str
    name: str
    description: str
    price: Decimal


def plan(size: int, rng: random.Random) -> list[Planned]:
    """`size` products; the rare word and the phrase in three each, spread out."""
    products = []
    rare = set(rng.sample(range(size), 3))
    phrase = set(rng.sample(sorted(set(range(size)) - rare), 3))
    for n in range(size):
        words = rng.choices(WORDS, k=20)
        if n % 8 == 0:
            words += ["zone", "one", "zero"]
        if n in rare:
            words.insert(rng.randrange(len(words)), RARE)
        if n in phrase:
            words += ["zone", "zero"]
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n:06d}"
        price = (Decimal(rng.randrange(100, 10_000)) / 100).quantize(Decimal("0.01"))  # < 100
        products.append(Planned(f"p{n:06d}", name, " ".join(words), price))
    return products


class Memo(ViewReader):
    """What the projection reads while applying: the product's document, the counters."""

    def __init__(self) -> None:
        self.docs: dict[ViewKey, Doc] = {}

    def get(self, key: ViewKey) -> Doc | None:
        return self.docs.get(key)

    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        return {k: self.docs[k] for k in keys if k in self.docs}

    def query(self, collection: str, **_: Any) -> Page:
        raise NotImplementedError

    def listing(self, name: str, **_: Any) -> Page:
        raise NotImplementedError


def _recorded(entity_id: str, version: int, kind: str = "product") -> RecordedEvent:
    return RecordedEvent(
        f"{kind}-{entity_id}", version, "-", 1, NOW, {}, Metadata("e", "bench", "bench")
    )


def projected(planned: Iterable[Planned]) -> Iterable[tuple[Planned, list[Change]]]:
    """Each product's changes as the projection makes them: created, then activated (the
    counters each activation reads are the ones the earlier activations wrote)."""
    projection, memo = CatalogViews(), Memo()
    for p in planned:
        created = ProductCreated(
            p.product_id, p.name, p.description, p.price, p.price, CATEGORY, False, "b", NOW
        )
        changes = list(projection.apply(created, _recorded(p.product_id, 1), memo))
        (doc,) = [c for c in changes if isinstance(c, Put)]
        memo.docs[doc.key] = dict(doc.doc)
        activated = projection.apply(ProductActivated("b", NOW), _recorded(p.product_id, 2), memo)
        changes = list(activated)
        for change in changes:
            if isinstance(change, Increment):
                counted = memo.docs.setdefault(change.key, {})
                for name, delta in change.counts.items():
                    counted[name] = counted.get(name, 0) + delta
            elif isinstance(change, Put) and change.key == doc.key:
                memo.docs.pop(doc.key)  # done with it: keep the memory small
        yield p, changes


def read_partitions(counts: Mapping[str, int]) -> set[str]:
    """The collections the measured queries read: counters, chosen trigrams, the listing."""
    wanted = {search.ALL}
    for criteria in QUERIES.values():
        wanted |= {search.count_key(g).collection for g in criteria.probes()}
        wanted.add(criteria.collection(counts))
    return wanted


def true_counts(planned: Sequence[Planned]) -> dict[str, int]:
    """The probed trigrams' counters as the projection leaves them (saturated)."""
    grams = {g for c in QUERIES.values() for g in c.probes()}
    counts = dict.fromkeys(grams, 0)
    for p in planned:
        held = search.trigrams(p.name) | search.trigrams(p.description)
        for g in grams & held:
            counts[g] += counts[g] < search.SATURATED
    return counts


class Writer:
    """Items straight into moto's table, encoded by the adapter's own `_item` (as the
    bench of catalogue reads does: moto's API is the slow part)."""

    def __init__(self, client: DynamoDBClient, table: str, prefix: str) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        self.backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
        self.table = table
        self.store = DynamoDBViewStore(client, table, consistent_reads=True).scoped(prefix)

    def put(self, key: ViewKey, doc: Mapping[str, Any], listed: Listing | None = None) -> None:
        self.backend.put_item(self.table, self.store._item(key, doc, listed))


def load(client: DynamoDBClient, table: str, planned: Sequence[Planned]) -> int:
    """The read partitions of the catalogue's views, as the projection writes them; the
    number of items written."""
    counts = true_counts(planned)
    wanted = read_partitions(counts)
    writer = Writer(client, table, Pointer.initial(CatalogViews()).live.prefix)
    listed: list[tuple[str, ViewKey, Doc]] = []
    documents: dict[str, Doc] = {}
    counters: dict[ViewKey, int] = {}
    written = 0
    for p, changes in projected(planned):
        holder = False
        for change in changes:
            collection = change.key.collection
            if isinstance(change, Increment) and collection in wanted:
                counters[change.key] = counters.get(change.key, 0) + change.counts["products"]
            elif isinstance(change, Put) and collection in wanted:
                if collection == search.ALL:
                    listed.append((change.key.id, change.key, dict(change.doc)))
                else:
                    writer.put(change.key, change.doc)
                    written += 1
                    holder = True
            elif isinstance(change, Put) and change.key == product_key(p.product_id):
                documents[p.product_id] = dict(change.doc)
            elif isinstance(change, Delete):
                raise AssertionError("an activation deletes nothing")
        if not holder:
            documents.pop(p.product_id, None)  # in no trigram collection read
    listed.sort(key=lambda entry: entry[0])
    for position, (_, key, doc) in enumerate(listed):
        writer.put(key, doc)
        if position <= search.SCAN:  # the listing's page reads these entries' documents
            documents.setdefault(doc["id"], _doc_of(planned, doc["id"]))
    for product_id, doc in documents.items():
        writer.put(product_key(product_id), doc)
    for key, value in counters.items():
        writer.put(key, {"products": value})
    (category,) = CatalogViews().apply(
        CategoryCreated(CATEGORY, "All", True, False, NOW),
        _recorded(CATEGORY, 1, "category"),
        Memo(),
    )
    assert isinstance(category, Put)
    writer.put(category.key, category.doc, category.listed)
    assert {k.collection.removeprefix("search#count#"): v for k, v in counters.items()} == {
        g: n for g, n in counts.items() if n
    }, "the loader's counters are the plan's"
    return written + len(listed) + len(documents) + len(counters) + 1


def _doc_of(planned: Sequence[Planned], product_id: str) -> Doc:
    n = int(product_id.removeprefix("p"))
    for p, changes in projected([planned[n]]):
        for change in changes:
            if isinstance(change, Put) and change.key == product_key(p.product_id):
                return dict(change.doc)
    raise AssertionError(product_id)


@dataclass(frozen=True)
class Row:
    products: int
    query: str
    answered: int
    total: str
    page_units: float
    page_operations: str
    total_units: float
    examined_collection: str


def measure(client: DynamoDBClient, table: str, size: int) -> list[Row]:
    """Each query's first page (`limit=20`), then its total, on the real adapter,
    eventually consistent, as `GET /products` reads them."""
    planned = plan(size, random.Random(SEED))
    load(client, table, planned)
    views = DynamoDBViewStore(client, table, consistent_reads=False)
    views = views.scoped(Pointer.initial(CatalogViews()).live.prefix)
    meter = ReadUnits()
    meter.attach(client)
    rows = []
    for name, criteria in QUERIES.items():
        expected = sorted(
            (p for p in planned if criteria.admits(p.name, p.description, CATEGORY, p.price)),
            key=lambda p: (search.fold(p.name), p.product_id),
        )
        meter.reset()
        collection = chosen_collection(views, criteria)
        page = search_products(views, criteria, limit=LIMIT, after=None, collection=collection)
        page_units, operations = meter.total(), meter.operations()
        got = [p["id"] for p in page.items]
        assert got == [p.product_id for p in expected[: len(got)]], name
        meter.reset()
        total = count_products(views, criteria, collection=collection)
        if total.exact:
            assert total.count == len(expected), name
        else:
            assert total.count <= len(expected), name
        rows.append(
            Row(
                size,
                name,
                len(page.items),
                f"{total.count:,}" if total.exact else f"at least {total.count:,}",
                page_units,
                operations,
                meter.total(),
                collection.removeprefix("search#"),
            )
        )
    return rows


def faithful(client: DynamoDBClient, tables: Mapping[str, str]) -> bool:
    """On a small catalogue: the real projector's items on the read partitions (events
    recorded by the aggregates, rebuilt through commits on the real adapter) equal the
    loader's."""
    from bench.search import LoadingViewStore
    from domain.access import CommandContext
    from domain.catalog.category import Category
    from domain.catalog.product import Product
    from event_sourcing.projector import Projectors, rebuild
    from event_sourcing.repository import EventSourcedRepository
    from event_sourcing.testing.memory import InMemoryEventStore, ManualClock, SequentialIds
    from tests.support.views import items_of, table_like

    planned = plan(FIDELITY_SIZE, random.Random(SEED))
    events = InMemoryEventStore()
    repository = EventSourcedRepository(events, ManualClock(), SequentialIds("b"))
    context = CommandContext("bench", "bench")
    category = Category.create(CATEGORY, "All", True, False, NOW)
    repository.save(category, context=context)
    for p in planned:
        product = Product.create(p.product_id, p.name, p.description, p.price, category, "b", NOW)
        product.activate("b", NOW)
        repository.save(product, context=context)
    real = table_like(client, tables["ViewsTable"], "bench-scale-real")
    views = LoadingViewStore(client, real, consistent_reads=True)
    rebuild(Projectors.first_generation([CatalogViews()], events, views))
    loaded = table_like(client, tables["ViewsTable"], "bench-scale-loaded")
    load(client, loaded, planned)
    mine = items_of(client, loaded)
    theirs = items_of(client, real)
    ours = {key: item for key, item in theirs.items() if key in mine}
    return bool(mine) and ours == mine
