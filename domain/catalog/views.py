"""The catalogue's read model: product details, ratings, categories with their count of
active products, and the search index. Written by the projector, read by the queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.catalog import search
from domain.catalog.category import Category, CategoryCreated
from domain.catalog.product import (
    Product,
    ProductActivated,
    ProductApproved,
    ProductCreated,
    ProductDeactivated,
    ProductDeleted,
    ProductPriceChanged,
)
from domain.catalog.review import Review, ReviewPosted
from domain.errors import NotFound
from event_sourcing.events import DomainEvent, RecordedEvent, iso
from event_sourcing.projector import Projection
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

CATEGORIES = "categories"
"""The listing of every category, by name."""
PRODUCT_EVENTS = (
    ProductCreated,
    ProductDeleted,
    ProductPriceChanged,
    ProductApproved,
    ProductActivated,
    ProductDeactivated,
)


def product_key(product_id: str) -> ViewKey:
    return ViewKey(f"product#{product_id}", "detail")


def rating_key(product_id: str) -> ViewKey:
    return ViewKey(f"product#{product_id}", "rating")


def customer_reviews(customer_id: str) -> str:
    """The products a customer reviewed, with the rating: one entry per product."""
    return f"customer#{customer_id}#reviews"


def category_key(category_id: str) -> ViewKey:
    return ViewKey(f"category#{category_id}", "detail")


def category_count_key(category_id: str) -> ViewKey:
    return ViewKey(f"category#{category_id}", "count")


def cents(price: Decimal) -> int:
    return int(price * 100)


class CatalogViews(Projection):
    """Products (details, ratings), categories (documents, counts) and the search index."""

    name = "catalog"
    version = 2
    """2: text folded with Unicode normalisation (NFKC) in entries' keys, and counters of
    each trigram's products (`search#count#<abc>`): a generation of version 1 has neither,
    and reads still answer right from it (docs/operations.md, "After an upgrade")."""
    streams = (
        f"{Category.stream_prefix}-",
        f"{Product.stream_prefix}-",
        f"{Review.stream_prefix}-",
    )

    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]:
        if isinstance(event, CategoryCreated):
            listed = Listing(CATEGORIES, search.sort_key(event.name, event.category_id))
            doc = _category_doc(event, recorded.version)
            return [Put(category_key(event.category_id), doc, listed=listed)]
        if isinstance(event, ReviewPosted):
            first = event.previous_rating is None
            reviewed = {"product_id": event.product_id, "rating": event.rating}
            return [
                # what the customer's export lists (no comment: a view's copy of it would
                # outlive an erasure), one partition per customer
                Put(ViewKey(customer_reviews(event.customer_id), event.product_id), reviewed),
                Increment(
                    rating_key(event.product_id),
                    {
                        "rating_sum": event.rating - (event.previous_rating or 0),
                        "review_count": 1 if first else 0,
                    },
                ),
            ]
        if not isinstance(event, PRODUCT_EVENTS):
            return []
        product_id = recorded.stream_id.removeprefix("product-")
        if isinstance(event, ProductCreated):
            return [Put(product_key(product_id), _product_doc(event, recorded.version))]
        current = views.get(product_key(product_id))
        if current is None:
            raise NotFound(f"the view of product {product_id} is missing: rebuild the views")
        doc = {**current, "version": recorded.version}
        changes: list[Change] = []
        if isinstance(event, ProductPriceChanged):
            doc |= {
                "price": str(event.new_price),
                "requires_approval": event.requires_approval,
                "price_updated_at": iso(event.changed_at),
            }
            if doc["is_active"]:
                changes += _listing(doc)
        elif isinstance(event, ProductApproved):
            doc["requires_approval"] = False
        elif isinstance(event, ProductActivated):
            doc["is_active"] = True
            changes += _listing(doc) + _index(doc, put=True) + _recount(doc, views, 1)
            changes.append(
                Increment(category_count_key(doc["category_id"]), {"active_products": 1})
            )
        elif isinstance(event, ProductDeactivated):
            doc["is_active"] = False
            changes += _leave_sale(doc, views)
        elif isinstance(event, ProductDeleted):
            return [
                Delete(product_key(product_id)),
                *(_leave_sale(doc, views) if doc["is_active"] else []),
            ]
        return [Put(product_key(product_id), doc), *changes]


def _leave_sale(doc: Doc, views: ViewReader) -> list[Change]:
    """An active product leaves the listings, the index (and its trigrams' counts) and its
    category's count."""
    count = Increment(category_count_key(doc["category_id"]), {"active_products": -1})
    return [*_index(doc, put=False), *_recount(doc, views, -1), count]


def _recount(doc: Doc, views: ViewReader, delta: int) -> list[Change]:
    """The product's trigram counters, moved by `delta` (`search.recount`): additions,
    which commute, so that products applied at once by several projectors (a rebuild's
    segments) all count; written ahead like the entries (one per trigram: more than a
    commit holds).

    Hot items, bounded: a common trigram's counter would be written by nearly every
    activation; it saturates at `search.SATURATED` and is then no longer written, so it
    takes at most about that many writes in its life (1 write unit each, in its own
    partition): a search needs counts only to tell a rare trigram from a common one.
    Cost: reading the product's counters (a BatchGetItem per 100 trigrams, consistent: the
    projector's store) and an UpdateItem per unsaturated one. Counts are exact below
    `search.SATURATED`, but for a redo of an event whose ahead writes landed while its
    commit did not (it counts twice; a rebuild recounts): they choose which collection a
    search reads (what it costs), never what it answers."""
    grams = search.product_trigrams(doc["name"], doc["description"])
    found = views.get_many([search.count_key(g) for g in grams])
    counts = {g: int((found.get(search.count_key(g)) or {}).get("products", 0)) for g in grams}
    return [
        Increment(search.count_key(g), {"products": delta}, ahead=True)
        for g in search.recount(counts, delta)
    ]


def _category_doc(event: CategoryCreated, version: int) -> Doc:
    return {
        "id": event.category_id,
        "name": event.name,
        "allows_products": event.allows_products,
        "premium": event.premium,
        "created_at": iso(event.created_at),
        "version": version,
    }


def _product_doc(event: ProductCreated, version: int) -> Doc:
    return {
        "id": event.product_id,
        "name": event.name,
        "description": event.description,
        "price": str(event.price),
        "category_id": event.category_id,
        "is_active": False,
        "requires_approval": event.requires_approval,
        "created_at": iso(event.created_at),
        "price_updated_at": None,
        "version": version,
    }


def _listing(doc: Doc) -> list[Change]:
    """The listing entries (all, category), which carry the price for range filters."""
    keys = search.listing_keys(doc["name"], doc["id"], doc["category_id"])
    entry = {"id": doc["id"], "sort": keys[0].id, "price_cents": cents(Decimal(doc["price"]))}
    return [Put(key, entry) for key in keys]


def _index(doc: Doc, *, put: bool) -> list[Change]:
    """The trigram entries, written ahead of the commit (a description has hundreds: more
    than a commit holds); on removal, the listing entries too: deleted ahead of the commit
    that takes the product off sale, a listing entry never names an inactive product."""
    grams = search.trigram_keys(doc["name"], doc["description"], doc["id"])
    if not put:
        listing = search.listing_keys(doc["name"], doc["id"], doc["category_id"])
        return [Delete(key, ahead=True) for key in listing + grams]
    entry = {"id": doc["id"], "sort": search.sort_key(doc["name"], doc["id"])}
    return [Put(key, entry, ahead=True) for key in grams]


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductPage:
    items: list[Doc]
    last_sort: str | None
    """Where the next page starts (None: this was the last): after the last entry this
    page examined, which may be past its last product."""
    collection: str
    """The collection this page read: the next page reads the same."""


def product_view(views: ViewReader, product_id: str, *, admin: bool) -> Doc:
    """The product as the API answers it; an inactive one only to admins."""
    found = views.get_many([product_key(product_id), rating_key(product_id)])
    doc = found.get(product_key(product_id))
    if doc is None:
        raise NotFound("No such product.", code="product_not_found")
    visible_product(doc, admin=admin)
    (answer,) = _present([doc], views, found)
    return answer


def visible_product(doc: Doc, *, admin: bool) -> Doc:
    """The product, to an admin or while active; to anyone else it does not exist."""
    if not (doc["is_active"] or admin):
        raise NotFound("No such product.", code="product_not_found")
    return doc


def chosen_collection(views: ViewReader, criteria: search.Criteria) -> str:
    """The collection a first page of `criteria` reads: for a `q` of three characters or
    more, its probed trigram with the fewest products, by their counters (one BatchGetItem
    of at most `search.PROBES` small items)."""
    grams = criteria.probes()
    if not grams:
        return criteria.listing()
    found = views.get_many([search.count_key(g) for g in grams])
    counts = {
        g: int(found[search.count_key(g)]["products"])
        for g in grams
        if search.count_key(g) in found
    }
    return criteria.collection(counts)


DOCUMENT_BATCH = 25
"""Product documents a search reads at least in one request (`get_many`)."""


def search_products(
    views: ViewReader,
    criteria: search.Criteria,
    *,
    limit: int,
    after: str | None,
    collection: str | None = None,
) -> ProductPage:
    """Up to `limit` active products matching `criteria`, by name, after sort key `after`
    in `collection` (a first page chooses it: `chosen_collection`).

    Cost, bounded whatever the catalogue: at most `search.SCAN` entries examined (a
    listing's `limit` + 1 if more), a product document for each entry not refused by its
    price alone, a rating for each product answered. When the bound stops it first, the
    page holds fewer than `limit` products and `last_sort` continues after the last entry
    examined."""
    if collection is None:
        collection = chosen_collection(views, criteria)
    matched: list[Doc] = []
    last_sort: str | None = None
    # A listing is dense in matches: read what is asked (and one more, to know if there is
    # more). A trigram's entries or a price range can reject most entries: read wider.
    dense = not collection.startswith(search.TRIGRAMS)
    dense = dense and criteria.min_price is None and criteria.max_price is None
    budget = max(search.SCAN, limit + 1) if dense else search.SCAN
    size = limit + 1 if dense else search.PAGE
    examined = 0
    while True:
        page = views.query(collection, limit=min(size, budget - examined), after=after)
        position = 0
        while position < len(page.items):
            # Documents in batches of what is still wanted (at least DOCUMENT_BATCH): a
            # page of common matches reads about `limit` documents, not a Query page's.
            batch = page.items[position : position + max(limit - len(matched), DOCUMENT_BATCH)]
            admitted = [e["id"] for e in batch if _entry_admits(criteria, e)]
            docs = views.get_many([product_key(i) for i in admitted])
            for entry in batch:
                position += 1
                doc = docs.get(product_key(entry["id"]))
                if doc is not None and doc["is_active"] and _admits(criteria, doc):
                    matched.append(doc)
                    if len(matched) == limit:
                        more = position < len(page.items) or page.cursor is not None
                        last = entry["sort"] if more else None
                        return ProductPage(_present(matched, views), last, collection)
        examined += len(page.items)
        if page.cursor is None or not page.items:
            return ProductPage(_present(matched, views), None, collection)
        after = last_sort = page.items[-1]["sort"]
        if examined >= budget:
            # The bound: an honest cursor after what was examined, however few matched.
            return ProductPage(_present(matched, views), last_sort, collection)


@dataclass(frozen=True)
class Total:
    """A search's number of matches: exact, or (not `exact`) at least `count`."""

    count: int
    exact: bool


COUNT_PAGE = 1_000
"""Entries per page when counting: entries are small (100 to 200 bytes), so a page of them
costs its bytes, not its entries (what a page costs: the view store's adapter)."""


def count_products(
    views: ViewReader, criteria: search.Criteria, *, collection: str | None = None
) -> Total:
    """The number of active products matching `criteria`: exactly as many as paging
    through every page of `search_products` answers, whatever the cursor, if the
    collection read (`collection`, else `chosen_collection`) holds at most
    `search.TOTAL_BOUND` entries; beyond, the matches
    among its first `search.TOTAL_BOUND` entries, a lower bound (`exact` False).

    Cost, bounded whatever the catalogue: at most `search.TOTAL_BOUND` entries, in Queries
    of `COUNT_PAGE`, plus one product document (read together, `get_many`) per entry that
    the entry alone cannot decide. A listing entry decides alone, unless a short `q` is not
    in its name and the description must be read: it is written in the commit that makes
    or keeps its product active at that price, and deleted ahead of the one that takes the
    product off sale, so an entry there means an active product of that name, category and
    price (its existence is what the search's document check would find). A trigram entry
    is written ahead of that commit, outside it, so it can name a product that is not
    active (yet, or any more): each is checked against its document, like the search does.
    So `q` of three characters or more costs one document read per entry of its chosen
    trigram's collection (at most `search.TOTAL_BOUND`); a listing costs its entries' pages
    only, far less than a document read per entry (docs/architecture.md, "Search without
    scanning", says how much less)."""
    if collection is None:
        collection = chosen_collection(views, criteria)
    trigram = collection.startswith(search.TRIGRAMS)
    folded = search.fold(criteria.q)
    total = 0
    undecided: list[str] = []
    after: str | None = None
    examined = 0
    exact = True
    while True:
        page = views.query(
            collection, limit=min(COUNT_PAGE, search.TOTAL_BOUND + 1 - examined), after=after
        )
        for entry in page.items:
            examined += 1
            if examined > search.TOTAL_BOUND:
                exact = False  # one entry past the bound: there are more
                break
            if not _entry_admits(criteria, entry):
                continue
            if not trigram and folded in _entry_name(entry):
                total += 1
            else:
                undecided.append(entry["id"])
        if not exact or page.cursor is None or not page.items:
            break
        after = page.items[-1]["sort"]
    docs = views.get_many([product_key(i) for i in undecided])
    for product_id in undecided:
        doc = docs.get(product_key(product_id))
        total += doc is not None and doc["is_active"] and _admits(criteria, doc)
    return Total(total, exact)


def _entry_name(entry: Doc) -> str:
    """The casefolded name in an entry's sort key (`<name>#<id>`)."""
    return str(entry["sort"])[: -len(entry["id"]) - 1]


def _entry_admits(criteria: search.Criteria, entry: Doc) -> bool:
    """What an entry alone refuses, for the search and its count alike: a listing entry
    priced out of the range (its price is written with the product's, in one commit).
    A trigram entry holds no price: the document decides."""
    if "price_cents" not in entry:
        return True
    price = Decimal(entry["price_cents"]) / 100
    return (criteria.min_price is None or price >= criteria.min_price) and (
        criteria.max_price is None or price <= criteria.max_price
    )


def _admits(criteria: search.Criteria, doc: Doc) -> bool:
    return criteria.admits(
        doc["name"], doc["description"], doc["category_id"], Decimal(doc["price"])
    )


def _present(
    docs: list[Doc], views: ViewReader, rated: dict[ViewKey, Doc] | None = None
) -> list[Doc]:
    """The answers for `docs`: with their category's name and their rating (from `rated`,
    the ratings read already, else read here with the categories: one `get_many`)."""
    keys = {category_key(d["category_id"]) for d in docs}
    if rated is None:
        keys |= {rating_key(d["id"]) for d in docs}
    found = (rated or {}) | views.get_many(sorted(keys, key=lambda k: (k.collection, k.id)))
    answers = []
    for doc in docs:
        rating = found.get(rating_key(doc["id"])) or {}
        count = int(rating.get("review_count", 0))
        average = average_rating(int(rating.get("rating_sum", 0)), count)
        category = found.get(category_key(doc["category_id"])) or {}
        answers.append(
            {
                **doc,
                "category_name": category.get("name"),
                "average_rating": average,
                "review_count": count,
            }
        )
    return answers


def average_rating(rating_sum: int, count: int) -> Decimal | None:
    """The mean of `count` ratings summing to `rating_sum`, to two places (half up); None
    without any."""
    if not count:
        return None
    return (Decimal(rating_sum) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def category_view(views: ViewReader, category_id: str) -> Doc:
    found = views.get_many([category_key(category_id), category_count_key(category_id)])
    doc = found.get(category_key(category_id))
    if doc is None:
        raise NotFound("No such category.", code="category_not_found")
    return _category_answer(doc, found.get(category_count_key(category_id)))


def all_categories(views: ViewReader, *, limit: int, cursor: str | None) -> Page:
    """A page of categories, sorted by name, each with its count of active products."""
    page = views.listing(CATEGORIES, limit=limit, cursor=cursor)
    counts = views.get_many([category_count_key(d["id"]) for d in page.items])
    answers = [_category_answer(d, counts.get(category_count_key(d["id"]))) for d in page.items]
    return Page(answers, page.cursor)


def _category_answer(doc: Doc, count: Doc | None) -> Doc:
    answer: dict[str, Any] = dict(doc)
    answer["product_count"] = int((count or {}).get("active_products", 0))
    return answer
