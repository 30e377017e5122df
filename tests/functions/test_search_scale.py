"""`GET /products` with a bounded cost, through the real handlers on moto: a page reads at
most `search.SCAN` index entries and says where to go on; `with_total` is exact up to
`search.TOTAL_BOUND` entries, then `total_count_at_least`; `q` is folded with Unicode
normalisation and case folding (`?q=CAFÉ` finds "café" however its accent was typed); and
the views the previous release wrote answer right until `rebuild` makes the new shapes."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.access import CommandContext
from domain.catalog import search
from domain.catalog import views as catalog_views
from domain.catalog.category import Category
from domain.catalog.product import Product
from domain.catalog.views import CatalogViews
from event_sourcing.projector import rebuild
from event_sourcing.rebuild import Progress, Rebuild
from infra import container as composition
from tests.functions.conftest import Stack
from tests.support.views import items_of

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CONTEXT = CommandContext("seed", "seed")
_categories = itertools.count()


@pytest.fixture(autouse=True)
def fresh_pointers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Query functions read the generation pointer afresh (deployed: at most 5 s old)."""
    monkeypatch.setattr("infra.generations.READER_CACHE_SECONDS", 0)


def seed(stack: Stack, products: dict[str, str]) -> dict[str, str]:
    """Active products (name: description) as the commands record them, projected into
    the live generation; their ids by name."""
    c = composition.container()
    name = f"Everything {next(_categories)}"
    category = Category.create(c.ids.new_id(), name, True, False, NOW)
    c.repository.save(category, context=CONTEXT)
    ids = {}
    for name, description in products.items():
        product = Product.create(
            c.ids.new_id(), name, description, Decimal("9.50"), category, "seed", NOW
        )
        product.activate("seed", NOW)
        c.repository.save(product, context=CONTEXT)
        ids[name] = product.id
    rebuild(c.projector)
    return ids


def get(stack: Stack, **query: str) -> dict[str, Any]:
    answer = stack.api.request("GET", "/products", query=query)
    assert answer.status == 200, answer.text
    return dict(answer.json)


def every_page(stack: Stack, **query: str) -> tuple[list[str], list[int]]:
    names: list[str] = []
    sizes: list[int] = []
    while True:
        page = get(stack, **query)
        names += [p["name"] for p in page["items"]]
        sizes.append(len(page["items"]))
        if page["next_cursor"] is None:
            return names, sizes
        query = {**query, "cursor": page["next_cursor"]}


def test_q_finds_text_whatever_its_case_and_unicode_form(stack: Stack) -> None:
    seed(
        stack,
        {
            "Café Noir": "composed",
            "Cafe\u0301 Crème": "decomposed",
            "CAFÉ AU LAIT": "upper case",
            "Tea": "no coffee: cafe without an accent",
        },
    )
    expected = ["Café Noir", "Cafe\u0301 Crème", "CAFÉ AU LAIT"]
    by_name = sorted(expected, key=search.fold)
    for q in ("CAFÉ", "café", "cafe\u0301", "CAFE\u0301", "Café"):
        assert [p["name"] for p in get(stack, q=q)["items"]] == by_name, q
        assert get(stack, q=q, with_total="true")["total_count"] == 3
    assert [p["name"] for p in get(stack, q="crème")["items"]] == ["Cafe\u0301 Crème"]


def test_a_cursor_keeps_its_collection_when_counts_move(stack: Stack) -> None:
    seed(stack, {f"Quiz {n:03d}": "questions" for n in range(5)})
    first = get(stack, q="quiz", limit="2")
    assert [p["name"] for p in first["items"]] == ["Quiz 000", "Quiz 001"]
    # Many products now hold 'qui' (the collection the first page read) and not 'uiz'.
    seed(stack, {f"Quick {n:03d}": "fast" for n in range(20)})
    rest, _ = every_page(stack, q="quiz", limit="2", cursor=first["next_cursor"])
    assert rest == ["Quiz 002", "Quiz 003", "Quiz 004"]
    foreign = stack.api.request(
        "GET", "/products", query={"q": "zone", "cursor": first["next_cursor"]}
    )
    assert (foreign.status, foreign.error_code) == (400, "invalid_cursor")


def test_the_document_names_total_count_at_least_and_its_bound(stack: Stack) -> None:
    document = stack.api.request("GET", "/openapi.json").json
    answer = document["components"]["schemas"]["ProductList"]
    assert "total_count_at_least" in answer["properties"]
    assert "total_count_at_least" not in answer.get("required", [])
    assert f"{search.TOTAL_BOUND:,}" in answer["properties"]["total_count_at_least"]["description"]
    route = document["paths"]["/products"]["get"]
    (with_total,) = [p for p in route["parameters"] if p["name"] == "with_total"]
    assert "total_count_at_least" in with_total["description"]


def _previous_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue projection as the previous release wrote it: version 1, text
    case-folded only (no Unicode normalisation), no trigram counters."""
    monkeypatch.setattr(CatalogViews, "version", 1)
    monkeypatch.setattr(search, "fold", str.casefold)
    monkeypatch.setattr(catalog_views, "_recount", lambda doc, views, delta: [])


def test_a_rebuild_turns_the_previous_releases_views_into_the_new_shapes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old:
        _previous_release(old)
        ids = seed(stack, {"Cafe\u0301 Crème": "decomposed", "Quiz night": "questions"})
        seed(stack, {f"Fuiz {n}": "a xuiz" for n in range(5)})
    before = items_of(stack.client, stack.tables["ViewsTable"], raw=True)
    assert not [k for k in before if "search#count#" in k[0]], "no counters before"
    c = composition.container()
    assert c.generations.read([CatalogViews()])["catalog"].live.version == 1

    # The new code reads the old items right (a trigram of rarest letters, as before).
    assert [p["id"] for p in get(stack, q="QUIZ")["items"]] == [ids["Quiz night"]]
    assert get(stack, q="xuiz", with_total="true")["total_count"] == 5

    report = Rebuild(
        CatalogViews(),
        c.generations,
        c.event_store,
        c.projector_views,
        c.clock,
        segments=1,
        retire_delay=0.1,
        fence=0,
        wait=time.sleep,
        progress=Progress(),
    ).run()
    assert report.generation == 2
    pointer = composition.container().generations.read([CatalogViews()])["catalog"]
    assert (pointer.live.number, pointer.live.version) == (2, CatalogViews.version)
    after = items_of(stack.client, stack.tables["ViewsTable"], raw=True)
    counted = {
        pk.split("search#count#")[1]: item for (pk, _), item in after.items() if "#count#" in pk
    }
    assert all(pk.startswith("catalog.2|") for pk, _ in after if "search#" in pk)
    assert counted["qui"]["products"] == {"N": "1"}
    assert counted["uiz"]["products"] == {"N": "6"}
    assert [p["id"] for p in get(stack, q="CAFÉ")["items"]] == [ids["Cafe\u0301 Crème"]]
    assert [p["id"] for p in get(stack, q="QUIZ")["items"]] == [ids["Quiz night"]]
