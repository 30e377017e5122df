"""Substring search without scanning: a trigram index of active products.

Every active product has an entry, of id `<name>#<id>` (entries come by name), in the
collections
- `search#all` and `search#category#<id>` (the listings, with its price in cents), and
- `search#tri#<abc>` for each distinct trigram of its casefolded name and description.

A query of three characters or more reads one trigram's collection, the one whose letters
are rarest in text, so that it is small however large the catalogue; a shorter query reads
a listing. Entries only narrow the candidates: each is checked against the product's own
document (active, substring, category, price) before it is answered, so an entry left
behind can never show a product that does not match."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from event_sourcing.views import ViewKey

ALL = "search#all"
PAGE = 100
MAX_QUERY_LENGTH = 100

# Letters by frequency in English text, commonest first: a trigram of rare letters
# selects few products.
_COMMON = " etaoinshrdlcumwfgypbvkjxqz"


def fold(text: str) -> str:
    return text.casefold()


def sort_key(name: str, product_id: str) -> str:
    return f"{fold(name)}#{product_id}"


def category_collection(category_id: str) -> str:
    return f"search#category#{category_id}"


def trigram_collection(trigram: str) -> str:
    return f"search#tri#{trigram}"


def trigrams(text: str) -> set[str]:
    folded = fold(text)
    return {folded[i : i + 3] for i in range(len(folded) - 2)}


def listing_keys(name: str, product_id: str, category_id: str) -> list[ViewKey]:
    """The product's entries in the listings: all products, and its category's."""
    sk = sort_key(name, product_id)
    return [ViewKey(ALL, sk), ViewKey(category_collection(category_id), sk)]


def trigram_keys(name: str, description: str, product_id: str) -> list[ViewKey]:
    sk = sort_key(name, product_id)
    grams = trigrams(name) | trigrams(description)
    return [ViewKey(trigram_collection(g), sk) for g in sorted(grams)]


def rarity(trigram: str) -> int:
    return sum(_COMMON.index(c) if c in _COMMON else len(_COMMON) for c in trigram)


@dataclass(frozen=True)
class Criteria:
    q: str = ""
    category_id: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None

    def collection(self) -> str:
        """The collection of entries the search reads."""
        folded = fold(self.q)
        if len(folded) >= 3:
            return trigram_collection(max(sorted(trigrams(folded)), key=rarity))
        return category_collection(self.category_id) if self.category_id else ALL

    def admits(self, name: str, description: str, category_id: str, price: Decimal) -> bool:
        folded = fold(self.q)
        return (
            (not folded or folded in fold(name) or folded in fold(description))
            and (self.category_id is None or category_id == self.category_id)
            and (self.min_price is None or price >= self.min_price)
            and (self.max_price is None or price <= self.max_price)
        )
