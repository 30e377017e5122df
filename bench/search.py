"""Cost of the catalogue's reads against catalogue size: a search whose answer is a handful
of products, the same with a category and a price range, a listing page, one product.

The catalogue (all products active) is recorded as events by the domain's aggregates,
then the views are rebuilt from them by the real projector and `CatalogViews` into the
real views table (moto). The reads are the functions `GET /products` and
`GET /products/{id}` call, on the real `DynamoDBViewStore` as the query functions build it
(eventually consistent reads)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bench.counting import RequestCounter
from domain.access import CommandContext
from domain.catalog import search
from domain.catalog.category import Category
from domain.catalog.product import Product
from domain.catalog.views import (
    CatalogViews,
    count_products,
    product_view,
    search_products,
)
from event_sourcing.dynamodb.views import DynamoDBViewStore, position_key
from event_sourcing.generations import Pointer
from event_sourcing.projector import Projectors, rebuild
from event_sourcing.repository import EventSourcedRepository, EventStore
from event_sourcing.testing.memory import InMemoryEventStore, ManualClock, SequentialIds
from event_sourcing.views import Change, Delete, Guard, Put
from tests.support.views import items_of, table_like

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SIZES = (200, 2_000)
FIDELITY_SIZE = 12
SEED = 20_260_101
DESCRIPTION_WORDS = 20
LIMIT = 20
PAGE = search.PAGE
RARE_WORD = "jukebox"
"""In the descriptions of exactly three products; its rarest trigram ('juk') is in no word
of `WORDS`, so its partition holds those three however large the catalogue."""
COMMON_PHRASE = "zone zero"
"""Two common words: its rarest trigram ('zer') is in every product holding 'zero', so its
partition grows with the catalogue however few products hold the phrase."""
CATEGORIES = ("Books", "Garden", "Kitchen", "Toys")
CONTEXT = CommandContext("bench", "bench")
ADMIN = "bench-admin"

_WORD_LIST = (
    "able acid aged also area army away baby back ball band bank base bath bear beat bell "
    "belt best bird blow blue boat body bone book boot born both bowl bulk burn bush busy "
    "cake call calm came camp card care case cash cast cell chat chip city clay club coal "
    "coat code cold cook cool cope copy core corn cost crew crop dark data date dawn dead "
    "deal dear deep desk dial diet disk door dose down draw drop drum dual duke dust duty "
    "each earn ease east easy edge else even ever face fact fair fall farm fast fear feel "
    "file fill film find fine fire firm fish five flat flow food foot form fort four free "
    "fuel full fund gain game gate gear gift girl give glad goal gold golf good gray grow "
    "hair half hall hand hard head hear heat help here hero high hill hold hole home hope "
    "horn host hour huge idea inch iron item jazz join just keen keep kind king knee lake "
    "lamp land lane last late lead leaf left lens life lift light line link list live load "
    "loan lock long look loop lord lose loud love luck made mail main make many mark meal "
    "mild milk mill mind mine mint miss mode moon more most move much must name navy near "
    "neck need news next nice nine none nose note open oven pack page pair palm park part "
    "path peak pick pile pine pink pipe plan play plot plus pole pool poor port post pure "
    "rain rank rare rate read real rest rice rich ride ring rise road rock role roof room "
    "root rope rose rule safe salt sand save seat seed self sell ship shoe shop shot show "
    "side sign silk sing site size skin slow snow soft soil sole song sort soup spin star "
    "stay step stop suit sure swim tail tale talk tall tank tape task team tell tent term "
    "test text thin tide tile time tiny tone tool tour town tree trip true tube tune turn "
    "type unit upon used vast view vote wage wait walk wall warm wash wave weak wear week "
    "well west wide wild will wind wine wing wire wise wish wood wool word work yard yarn "
    "year zero zone"
)
WORDS = tuple(_WORD_LIST.split())


@dataclass(frozen=True)
class Planned:
    name: str
    description: str
    price: Decimal
    category: int


@dataclass(frozen=True)
class Catalogue:
    """What was built, and the products (ids, by name) the reads must answer."""

    products: int
    category_ids: list[str]
    rare: list[str]
    """The ids of the products whose description holds `RARE_WORD`, by name."""
    rare_in_range: list[str]
    phrase: list[str]
    """The ids of the products holding `COMMON_PHRASE`, by name."""
    phrase_partition: int
    """The entries of the partition a search for `COMMON_PHRASE` reads."""
    index_entries: int


@dataclass(frozen=True)
class Row:
    products: int
    operation: str
    answered: int
    requests: int
    items_read: int
    operations: str


def plan(size: int, rng: random.Random) -> list[Planned]:
    """`size` products named from `WORDS`, ~20-word descriptions; three hold `RARE_WORD`:
    two in the first category (at 25.00 and 75.00), one in the second (at 40.00)."""
    planned = []
    for n in range(size):
        words = rng.choices(WORDS, k=DESCRIPTION_WORDS)
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n:05d}"
        price = Decimal(rng.randrange(100, 30_000)) / 100
        planned.append(Planned(name, " ".join(words), price, rng.randrange(len(CATEGORIES))))
    for position, (rare_price, category) in zip(
        rng.sample(range(size), k=3), [("25.00", 0), ("75.00", 0), ("40.00", 1)], strict=True
    ):
        product = planned[position]
        words = product.description.split()
        words.insert(rng.randrange(len(words) + 1), RARE_WORD)
        planned[position] = Planned(product.name, " ".join(words), Decimal(rare_price), category)
    return planned


def record_events(planned: list[Planned]) -> tuple[EventStore, Catalogue]:
    """The catalogue's events as the commands record them (`Category`, `Product`, the
    repository), kept by the in-memory event store: the reads measured touch the views
    only, and in moto each Query of the event table costs in proportion to the whole table
    (rebuilding 2,000 products from it took most of a minute more)."""
    store = InMemoryEventStore()
    repository = EventSourcedRepository(store, ManualClock(), SequentialIds("b"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    categories = []
    for name in CATEGORIES:
        category = Category.create(repository.ids.new_id(), name, True, False, now)
        repository.save(category, context=CONTEXT)
        categories.append(category)
    ids: dict[str, str] = {}
    for p in planned:
        category = categories[p.category]
        product = Product.create(
            repository.ids.new_id(), p.name, p.description, p.price, category, ADMIN, now
        )
        repository.save(product, context=CONTEXT)
        product.activate(ADMIN, now)
        repository.save(product, context=CONTEXT)
        ids[p.name] = product.id
    by_name = sorted(planned, key=lambda p: p.name.lower())
    rare = [p for p in by_name if RARE_WORD in p.description]
    in_range = [p for p in rare if p.category == 0 and Decimal(20) <= p.price <= Decimal(50)]
    texts = {p.name: (search.fold(p.name), search.fold(p.description)) for p in planned}
    probed = search.Criteria(COMMON_PHRASE).probes()
    counts = {g: sum(any(g in t for t in texts[p.name]) for p in planned) for g in probed}
    chosen = search.Criteria(COMMON_PHRASE).collection(counts).removeprefix("search#tri#")
    catalogue = Catalogue(
        products=len(planned),
        category_ids=[c.id for c in categories],
        rare=[ids[p.name] for p in rare],
        rare_in_range=[ids[p.name] for p in in_range],
        phrase=[ids[p.name] for p in by_name if any(COMMON_PHRASE in t for t in texts[p.name])],
        phrase_partition=sum(1 for p in planned if any(chosen in t for t in texts[p.name])),
        index_entries=sum(
            len(search.trigram_keys(p.name, p.description, "x")) + 2 for p in planned
        ),
    )
    return store, catalogue


class LoadingViewStore(DynamoDBViewStore):
    """Build time only: writes each commit's changes straight into moto's table, items
    encoded by the adapter's own `_item`, without the commit's transaction.

    moto deep-copies every table a TransactWriteItems names, so thousands of commits on a
    views table of hundreds of thousands of items would take hours; and the API's request
    handling is three quarters of a plain write's cost in moto. One writer rebuilds in
    order, so the position's condition has nothing to guard. That the items written are
    the same as the real commit's is checked by `faithful` on a small catalogue."""

    def commit(
        self,
        stream_id: str,
        *,
        from_version: int,
        to_version: int,
        changes: Sequence[Change],
        guard: Guard | None = None,
    ) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.client.meta.region_name]
        for change in [*changes, Put(position_key(stream_id), {"version": to_version})]:
            if isinstance(change, Put):
                backend.put_item(self.table, self._item(change.key, change.doc, change.listed))
            elif isinstance(change, Delete):
                backend.delete_item(self.table, self._key(change.key))
            else:
                fields = list(change.counts.items())
                self.client.update_item(
                    TableName=self.table,
                    Key=self._key(change.key),
                    UpdateExpression="ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(fields))),
                    ExpressionAttributeNames={f"#f{i}": name for i, (name, _) in enumerate(fields)},
                    ExpressionAttributeValues={
                        f":v{i}": {"N": str(delta)} for i, (_, delta) in enumerate(fields)
                    },
                )


def faithful(client: DynamoDBClient, tables: Mapping[str, str]) -> bool:
    """On a small catalogue, the loader writes exactly the items the real commits write."""
    events, _ = record_events(plan(FIDELITY_SIZE, random.Random(SEED)))
    real = tables["ViewsTable"]
    loaded = table_like(client, real, "bench-loaded-views")
    catalog = [CatalogViews()]
    real_views = DynamoDBViewStore(client, real, consistent_reads=True)
    rebuild(Projectors.first_generation(catalog, events, real_views))
    loading = LoadingViewStore(client, loaded, consistent_reads=True)
    rebuild(Projectors.first_generation(catalog, events, loading))
    return items_of(client, real) == items_of(client, loaded) != {}


def build(client: DynamoDBClient, tables: Mapping[str, str], size: int) -> Catalogue:
    events, catalogue = record_events(plan(size, random.Random(SEED)))
    views = LoadingViewStore(client, tables["ViewsTable"], consistent_reads=True)
    rebuild(Projectors.first_generation([CatalogViews()], events, views))
    return catalogue


Operation = Callable[[], int]


def operations(views: DynamoDBViewStore, catalogue: Catalogue) -> dict[str, Operation]:
    """Each read as the query function does it; answers the number of products answered,
    after checking they are the expected ones."""
    first_category = catalogue.category_ids[0]

    def handful() -> int:
        page = search_products(views, search.Criteria(RARE_WORD), limit=LIMIT, after=None)
        assert [p["id"] for p in page.items] == catalogue.rare, page.items
        return len(page.items)

    def narrowed() -> int:
        criteria = search.Criteria(RARE_WORD, first_category, Decimal(20), Decimal(50))
        page = search_products(views, criteria, limit=LIMIT, after=None)
        assert [p["id"] for p in page.items] == catalogue.rare_in_range, page.items
        return len(page.items)

    def phrase() -> int:
        page = search_products(views, search.Criteria(COMMON_PHRASE), limit=LIMIT, after=None)
        assert [p["id"] for p in page.items] == catalogue.phrase[:LIMIT], page.items
        return len(page.items)

    def listing() -> int:
        page = search_products(views, search.Criteria(), limit=LIMIT, after=None)
        assert len(page.items) == LIMIT
        assert page.last_sort is not None
        return len(page.items)

    def detail() -> int:
        answer = product_view(views, catalogue.rare[0], admin=False)
        assert answer["id"] == catalogue.rare[0]
        return 1

    return {
        f"search `q={RARE_WORD}` (3 products hold it)": handful,
        f"search `q={RARE_WORD}`, category, price 20-50": narrowed,
        f"search `q={COMMON_PHRASE}` (two common words)": phrase,
        f"listing page, no `q` (`limit={LIMIT}`)": listing,
        "product detail (`product_view`)": detail,
    }


def measure(
    client: DynamoDBClient, tables: Mapping[str, str], size: int, counter: RequestCounter
) -> tuple[Catalogue, list[Row]]:
    """Build a catalogue of `size` active products, then count each read on the views."""
    catalogue = build(client, tables, size)
    live = Pointer.initial(CatalogViews()).live  # a fresh stack's
    views = DynamoDBViewStore(client, tables["ViewsTable"], consistent_reads=False)
    views = views.scoped(live.prefix)
    rows = []
    for name, operation in operations(views, catalogue).items():
        counter.reset()
        answered = operation()
        table = tables["ViewsTable"]
        assert sum(counter.requests.values()) == counter.total(table, "requests"), counter.requests
        rows.append(
            Row(
                products=size,
                operation=name,
                answered=answered,
                requests=counter.total(table, "requests"),
                items_read=counter.total(table, "read"),
                operations=counter.operations(table),
            )
        )
    return catalogue, rows


SHORT_Q = "ja"
"""Under three characters: read from the listing, its description checked where the name
does not hold it."""
TIMING_RUNS = 5


@dataclass(frozen=True)
class TotalRow:
    """One search with and without `with_total`, at one catalogue size."""

    products: int
    search: str
    total: int
    requests: int
    items_read: int
    with_total_requests: int
    with_total_entries: int
    with_total_documents: int
    time_ratio: float
    count_operations: str
    exact: bool = True
    """False past the bound: `total` is then a lower bound (`total_count_at_least`)."""

    @property
    def shown_total(self) -> str:
        return f"{self.total:,}" if self.exact else f"at least {self.total:,}"


def total_searches(catalogue: Catalogue) -> dict[str, search.Criteria]:
    """Every kind of search: long `q` (a trigram partition), short and no `q` (a listing),
    category, price range, and combinations."""
    first = catalogue.category_ids[0]
    low, high = Decimal(20), Decimal(50)
    return {
        f"`q={RARE_WORD}` (3 products hold it)": search.Criteria(RARE_WORD),
        f"`q={RARE_WORD}`, category, price 20-50": search.Criteria(RARE_WORD, first, low, high),
        f"`q={COMMON_PHRASE}` (two common words)": search.Criteria(COMMON_PHRASE),
        f"`q={SHORT_Q}` (short: the listing)": search.Criteria(SHORT_Q),
        "no filter": search.Criteria(),
        "category": search.Criteria(category_id=first),
        "price 20-50": search.Criteria(min_price=low, max_price=high),
        "category, price 20-50": search.Criteria(category_id=first, min_price=low, max_price=high),
    }


def expected_total(planned: list[Planned], category_ids: list[str], c: search.Criteria) -> int:
    """What the catalogue's own plan says matches, without the index."""
    return sum(c.admits(p.name, p.description, category_ids[p.category], p.price) for p in planned)


def measure_totals(
    client: DynamoDBClient,
    tables: Mapping[str, str],
    catalogue: Catalogue,
    counter: RequestCounter,
) -> list[TotalRow]:
    """Each search's first page alone, then with its total (`count_products`), as
    `GET /products` reads them; the total checked against the plan; time as the ratio of
    the medians of `TIMING_RUNS` runs of each, alternated, in this run."""
    import statistics
    import time

    table = tables["ViewsTable"]
    views = DynamoDBViewStore(client, table, consistent_reads=False)
    views = views.scoped(Pointer.initial(CatalogViews()).live.prefix)
    planned = plan(catalogue.products, random.Random(SEED))
    rows = []
    for name, criteria in total_searches(catalogue).items():

        def page(c: search.Criteria = criteria) -> int:
            return len(search_products(views, c, limit=LIMIT, after=None).items)

        def with_total(c: search.Criteria = criteria) -> int:
            page(c)
            return count_products(views, c).count

        counter.reset()
        page()
        alone = (counter.total(table, "requests"), counter.total(table, "read"))
        counter.reset()
        total = with_total()
        expected = expected_total(planned, catalogue.category_ids, criteria)
        exact = count_products(views, criteria).exact
        # past the bound a total is "at least": the matches among the entries it read
        assert total == expected if exact else total <= expected, (name, total, expected)
        entries = counter.items_read[(table, "Query")]
        documents = counter.items_read[(table, "BatchGetItem")]
        both = counter.total(table, "requests")
        counter.reset()
        count_products(views, criteria)
        count_operations = counter.operations(table)
        times: dict[str, list[float]] = {"page": [], "total": []}
        for _ in range(TIMING_RUNS):
            for kind, operation in (("page", page), ("total", with_total)):
                start = time.perf_counter()
                operation()
                times[kind].append(time.perf_counter() - start)
        ratio = statistics.median(times["total"]) / statistics.median(times["page"])
        rows.append(
            TotalRow(
                catalogue.products,
                name,
                total,
                *alone,
                both,
                entries,
                documents,
                ratio,
                count_operations,
                exact,
            )
        )
    return rows
