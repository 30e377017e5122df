"""Substring search without scanning: a trigram index of active products, with counts.

Every active product has an entry, of id `<name>#<id>` (entries come by name), in the
collections
- `search#all` and `search#category#<id>` (the listings, with its price in cents), and
- `search#tri#<abc>` for each distinct trigram of its folded name and description;
and each trigram has a counter, `search#count#<abc>` (its own partition), of the active
products that hold it, saturating at `SATURATED` (see `recount`).

Text is folded (`domain.catalog.text.fold`: NFKC and Unicode case folding) in the index
and in the query alike, so `CAFÉ` finds "café" however its accent was typed.

A query of three characters or more reads one trigram's collection: of its trigrams (at
most `PROBES` of them, looked up together), the one with the fewest products, so that it
is small however large the catalogue; a shorter query reads a listing. Entries only narrow
the candidates: each is checked against the product's own document (active, substring,
category, price) before it is answered, so an entry left behind, or a count that is off,
can never show a product that does not match: a count only decides what a search costs.

What one page costs is bounded whatever the catalogue: it examines at most `SCAN` entries
(a listing's page `limit` + 1) and reads a document for each entry it cannot refuse
alone; it stops there and answers a cursor after the last entry it examined, so a page
may hold fewer than `limit` products (even none) and still have a next one. A total
(`with_total`) examines at most `TOTAL_BOUND` entries: exact if the collection ends
within them, else a lower bound."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.catalog import text
from event_sourcing.views import ViewKey

ALL = "search#all"
PAGE = 100
"""Entries per Query of a trigram's collection."""
SCAN = 100
"""Entries one page examines at most (a listing's page reads `limit` + 1 if that is more:
one more than it answers, to know whether there is a next page)."""
TOTAL_BOUND = 1_000
"""Entries a total examines at most: `total_count` is exact when the search's collection
(past its price filter, for a listing) holds at most this many entries; beyond, the answer
is `total_count_at_least`, the matches among the first `TOTAL_BOUND`."""
PROBES = 8
"""Trigrams of a query whose counts are read (one BatchGetItem): a long query's rarest
by letters, a cheap first sort that keeps the read bounded."""
SATURATED = 1_000
"""A trigram counter stops here: past it a trigram is common, and its counter is no longer
written (its exact size no longer changes which trigram a search reads, and every product
activation would otherwise write it: a hot item). Far above `SCAN`: below it, counts order
the trigrams a page could read whole."""
MAX_QUERY_LENGTH = 100

# Letters by frequency in English text, commonest first: among trigrams of equal count (a
# generation written before counts, whose counters are all missing), one of rare letters
# selects few products.
_COMMON = " etaoinshrdlcumwfgypbvkjxqz"


def fold(value: str) -> str:
    return text.fold(value)


def sort_key(name: str, product_id: str) -> str:
    return f"{fold(name)}#{product_id}"


def category_collection(category_id: str) -> str:
    return f"search#category#{category_id}"


TRIGRAMS = "search#tri#"


def trigram_collection(trigram: str) -> str:
    return f"{TRIGRAMS}{trigram}"


def count_key(trigram: str) -> ViewKey:
    """The counter of a trigram's products: one partition per trigram, so that no two
    trigrams' writes share one."""
    return ViewKey(f"search#count#{trigram}", "#")


def trigrams(value: str) -> set[str]:
    folded = fold(value)
    return {folded[i : i + 3] for i in range(len(folded) - 2)}


def product_trigrams(name: str, description: str) -> list[str]:
    return sorted(trigrams(name) | trigrams(description))


def listing_keys(name: str, product_id: str, category_id: str) -> list[ViewKey]:
    """The product's entries in the listings: all products, and its category's."""
    sk = sort_key(name, product_id)
    return [ViewKey(ALL, sk), ViewKey(category_collection(category_id), sk)]


def trigram_keys(name: str, description: str, product_id: str) -> list[ViewKey]:
    sk = sort_key(name, product_id)
    return [ViewKey(trigram_collection(g), sk) for g in product_trigrams(name, description)]


def rarity(trigram: str) -> int:
    return sum(_COMMON.index(c) if c in _COMMON else len(_COMMON) for c in trigram)


def recount(counts: Mapping[str, int], delta: int) -> list[str]:
    """The trigrams whose counters move by `delta` when a product holding the trigrams of
    `counts` (their counters' values, 0 if missing) goes on sale (1) or leaves it (-1): a
    counter at `SATURATED` is not written (it stays there), so that it takes at most about
    `SATURATED` writes in its life however many products hold its trigram; a missing one
    (a generation written before counts) is not taken below zero."""
    return [
        trigram
        for trigram, count in counts.items()
        if count < SATURATED and (count > 0 or delta > 0)
    ]


def probes(q: str) -> list[str]:
    """The trigrams of `q` whose counts a search reads: at most `PROBES`, rarest letters
    first (ties by the trigram)."""
    return sorted(trigrams(q), key=lambda g: (-rarity(g), g))[:PROBES]


@dataclass(frozen=True)
class Criteria:
    q: str = ""
    category_id: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None

    def listing(self) -> str:
        return category_collection(self.category_id) if self.category_id else ALL

    def probes(self) -> list[str]:
        """The trigrams to look up, none for a query under three characters."""
        return probes(self.q)

    def collection(self, counts: Mapping[str, int] | None = None) -> str:
        """The collection of entries the search reads: the listing, or the collection of
        the probed trigram with the fewest products by `counts` (missing: none; ties, and
        no counts at all, by rarest letters)."""
        grams = self.probes()
        if not grams:
            return self.listing()
        known = counts or {}
        return trigram_collection(min(grams, key=lambda g: (known.get(g, 0), -rarity(g), g)))

    def continues_in(self, collection: str) -> bool:
        """Whether a page of this search may read `collection`: its listing, or any of its
        trigrams' (a cursor keeps the collection its first page chose, counts may move)."""
        if len(fold(self.q)) < 3:
            return collection == self.listing()
        return collection.startswith(TRIGRAMS) and collection[len(TRIGRAMS) :] in trigrams(self.q)

    def admits(self, name: str, description: str, category_id: str, price: Decimal) -> bool:
        folded = fold(self.q)
        return (
            (not folded or folded in fold(name) or folded in fold(description))
            and (self.category_id is None or category_id == self.category_id)
            and (self.min_price is None or price >= self.min_price)
            and (self.max_price is None or price <= self.max_price)
        )
