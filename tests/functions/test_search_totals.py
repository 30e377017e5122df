"""`GET /products?with_total=true`: `total_count` is exactly what paging through every page
of the same search answers, for every kind of search, including products repriced,
deactivated or deleted after they were indexed, and index entries left behind."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from domain.catalog import search
from domain.catalog.views import CatalogViews
from event_sourcing.generations import Pointer
from event_sourcing.views import Change, Delete, Put, ViewKey, ViewStore
from infra import container as composition
from tests.functions.conftest import Stack
from tests.functions.test_catalog_http import Shop


@dataclass
class Listed:
    id: str
    name: str
    description: str
    price: str
    category: str
    active: bool = True


class Catalogue:
    """Products in two categories, changed after they were indexed, with what each should
    be now (the test's own model of what a search must answer)."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.books, self.tools = shop.category("Books"), shop.category("Tools")
        self.products: dict[str, Listed] = {}
        for name, (category, price, text) in {
            "Clean Code": (self.books, "24.00", "A handbook of agile software craftsmanship"),
            "Clean Architecture": (self.books, "30.00", "A craftsman's guide to structure"),
            "Code Complete": (self.books, "45.00", "A practical handbook of construction"),
            "Refactoring": (self.books, "40.00", "Improving the design of existing code"),
            "Hammer": (self.tools, "12.00", "Drives nails; the CLEAN way to build"),
            "Screwdriver": (self.tools, "8.00", "Turns screws"),
            "Workbench": (self.tools, "90.00", "Where the craft happens"),
            "Wood Glue": (self.tools, "6.00", "Holds the joints of a workbench"),
            "Crafting Tables": (self.tools, "70.00", "Plans for a bench, clean and simple"),
        }.items():
            product_id = shop.live(category, name, price, text)
            self.products[name] = Listed(product_id, name, text, price, category)
        hidden = shop.product(self.books, "Clean Secrets", "10.00", "clean but never sold")
        self.products["Clean Secrets"] = Listed(
            hidden["id"], "Clean Secrets", "clean but never sold", "10.00", self.books, False
        )
        shop.stack.project()
        # After indexing: repriced into and out of ranges, taken off sale, deleted.
        self.reprice("Clean Code", "14.00")
        self.reprice("Screwdriver", "15.00")
        self.deactivate("Workbench")
        self.deactivate("Code Complete")
        self.delete("Wood Glue")
        shop.stack.project()

    def reprice(self, name: str, price: str) -> None:
        product = self.products[name]
        answer = self.shop.call(
            "PUT", f"/products/{product.id}/price", {"price": price}, self.shop.admin
        )
        assert answer.status == 200, answer.text
        product.price = price

    def deactivate(self, name: str) -> None:
        product = self.products[name]
        path = f"/products/{product.id}/deactivate"
        answer = self.shop.call("POST", path, {"reason": "recalled"}, self.shop.admin)
        assert answer.status == 200, answer.text
        product.active = False

    def delete(self, name: str) -> None:
        product = self.products.pop(name)
        answer = self.shop.call("DELETE", f"/products/{product.id}", token=self.shop.admin)
        assert answer.status == 200, answer.text

    def expected(self, query: dict[str, str]) -> list[str]:
        """The ids the search must answer, by name, from the test's own model."""
        q = query.get("q", "").casefold()
        low, high = query.get("min_price"), query.get("max_price")
        return [
            p.id
            for p in sorted(self.products.values(), key=lambda p: (p.name.casefold(), p.id))
            if p.active
            and (q in p.name.casefold() or q in p.description.casefold())
            and query.get("category_id", p.category) == p.category
            and (low is None or Decimal(p.price) >= Decimal(low))
            and (high is None or Decimal(p.price) <= Decimal(high))
        ]

    def pages(self, query: dict[str, str], limit: int = 2) -> tuple[list[str], list[Any]]:
        """Every page of the search with `with_total=true`: the ids in order, and the
        `total_count` of each page."""
        ids: list[str] = []
        totals: list[Any] = []
        params = {**query, "limit": str(limit), "with_total": "true"}
        while True:
            answer = self.shop.call("GET", "/products", query=params)
            assert answer.status == 200, answer.text
            ids += [p["id"] for p in answer.json["items"]]
            totals.append(answer.json["total_count"])
            if answer.json["next_cursor"] is None:
                return ids, totals
            params = {**params, "cursor": answer.json["next_cursor"]}


def kinds(books: str, tools: str) -> dict[str, dict[str, str]]:
    """Every kind of search: none, short and long `q`, category, price bounds, and their
    combinations (long `q` reads a trigram partition; short or no `q`, a listing)."""
    return {
        "everything": {},
        "short q": {"q": "e"},
        "short q in descriptions only": {"q": "ig"},
        "long q": {"q": "clean"},
        "long q of descriptions": {"q": "HANDBOOK"},
        "long q matching nothing": {"q": "nothing like it"},
        "category": {"category_id": tools},
        "unknown category": {"category_id": "no-such-category"},
        "min price": {"min_price": "20"},
        "max price": {"max_price": "15.00"},
        "price range": {"min_price": "12", "max_price": "40"},
        "category and price": {"category_id": books, "max_price": "35"},
        "short q and category": {"q": "r", "category_id": tools},
        "short q and price": {"q": "a", "min_price": "30"},
        "long q and category": {"q": "craft", "category_id": tools},
        "long q and price": {"q": "clean", "max_price": "20"},
        "long q, category and price": {
            "q": "cra",
            "category_id": books,
            "min_price": "25",
            "max_price": "30.00",
        },
    }


@pytest.fixture
def shelf(shop: Shop) -> Catalogue:
    return Catalogue(shop)


@pytest.fixture
def shop(stack: Stack) -> Shop:
    return Shop(stack)


def live_views() -> ViewStore:
    """The live generation of the catalogue's views, writable: to leave entries behind as
    an interrupted projection would."""
    return composition.container().views.scoped(Pointer.initial(CatalogViews()).live.prefix)


def assert_totals_agree_with_paging(shelf: Catalogue) -> None:
    """For every kind of search: the pages (of 2) answer what the model expects, and each
    page's `total_count` is their number."""
    for kind, query in kinds(shelf.books, shelf.tools).items():
        expected = shelf.expected(query)
        ids, totals = shelf.pages(query)
        assert ids == expected, kind
        assert set(totals) == {len(expected)}, kind


def test_the_total_is_what_paging_through_every_page_answers(shelf: Catalogue) -> None:
    assert_totals_agree_with_paging(shelf)
    for kind, query in kinds(shelf.books, shelf.tools).items():
        one_page = shelf.shop.call("GET", "/products", query={**query, "with_total": "true"})
        assert one_page.json["total_count"] == len(shelf.expected(query)), kind


def test_the_searches_cover_products_repriced_taken_off_sale_and_deleted(shelf: Catalogue) -> None:
    everything = shelf.pages({})[1]
    assert everything[0] == 6  # of 10 created: one never sold, two off sale, one deleted
    assert shelf.pages({"max_price": "15.00"})[0] == [
        shelf.products[n].id for n in ("Clean Code", "Hammer", "Screwdriver")
    ]


def test_entries_left_behind_by_an_interrupted_projection_are_not_counted(
    shelf: Catalogue,
) -> None:
    """Trigram entries are written before the transaction that activates a product, and a
    product's entries are deleted before the one that takes it off sale: a projection
    interrupted in between leaves trigram entries of an inactive product, or an active
    product without entries. The total agrees with paging in both."""
    views = live_views()
    never_sold = shelf.products["Clean Secrets"]
    entry = {"id": never_sold.id, "sort": search.sort_key(never_sold.name, never_sold.id)}
    grams = search.trigram_keys(never_sold.name, never_sold.description, never_sold.id)
    off_sale = shelf.products["Workbench"]
    off_sale_grams = search.trigram_keys(off_sale.name, off_sale.description, off_sale.id)
    off_entry = {"id": off_sale.id, "sort": search.sort_key(off_sale.name, off_sale.id)}
    hammer = shelf.products["Hammer"]
    unlisted = search.listing_keys(hammer.name, hammer.id, hammer.category)
    unlisted += search.trigram_keys(hammer.name, hammer.description, hammer.id)
    changes: list[Change] = [Put(key, entry, ahead=True) for key in grams]
    changes += [Put(key, off_entry, ahead=True) for key in off_sale_grams]
    changes += [Delete(key, ahead=True) for key in unlisted]
    views.commit("test-interrupted", from_version=0, to_version=1, changes=changes)
    assert views.get(ViewKey(search.trigram_collection("cle"), entry["sort"])) == entry
    del shelf.products["Hammer"]  # active, but no longer in any partition: not found

    assert_totals_agree_with_paging(shelf)


def test_without_with_total_the_total_is_null(shelf: Catalogue) -> None:
    for query in ({}, {"with_total": "false"}, {"q": "clean", "with_total": "false"}):
        answer = shelf.shop.call("GET", "/products", query=query)
        assert answer.status == 200, answer.text
        assert answer.json["total_count"] is None, query
        assert answer.json["items"], query


@pytest.mark.parametrize("value", ["maybe", "", "2", "truee"])
def test_a_with_total_that_is_not_a_boolean_is_a_400(shop: Shop, value: str) -> None:
    answer = shop.call("GET", "/products", query={"with_total": value})
    assert (answer.status, answer.error_code) == (400, "invalid_request"), answer.text
    assert set(answer.json["error"]) == {"code", "message", "details"}


def test_the_document_names_with_total_and_total_count(shop: Shop) -> None:
    document = shop.call("GET", "/openapi.json").json
    route = document["paths"]["/products"]["get"]
    (with_total,) = [p for p in route["parameters"] if p["name"] == "with_total"]
    assert (with_total["in"], with_total["required"]) == ("query", False)
    assert "total_count" in with_total["description"]
    answer = document["components"]["schemas"]["ProductList"]
    assert "total_count" in answer["properties"]
    assert "total_count" not in answer.get("required", [])
