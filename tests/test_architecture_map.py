"""docs/architecture.md's map of a command and a query is measured, not told: each request is
traced through the functions on moto, and the files it enters, the DynamoDB requests it
makes and the imports that lead there must be the ones the map shows."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grimp
import pytest

from infra import container as composition
from tests.functions.conftest import Stack, open_stack
from tests.support.paths import ROOT, Requests, entered

MAP = ROOT / "docs" / "architecture.md"
BLOCK = re.compile(r"```text\n# (?P<title>[^\n]+) · (?P<function>\w+)\n(?P<body>.*?)```", re.S)


@dataclass(frozen=True)
class Drawn:
    title: str
    function: str
    files: list[str]
    requests: dict[str, int]


def drawn() -> dict[tuple[str, str], Drawn]:
    """The paths the map draws: a ```text block whose first line is `# <request> · <function>`,
    then one file per line, then `requests: <Operation> on <table> xN, ...`."""
    paths = {}
    for found in BLOCK.finditer(MAP.read_text()):
        files, requests = [], {}
        for line in found["body"].splitlines():
            line = line.strip()
            if line.startswith("requests:"):
                for part in filter(None, (p.strip() for p in line[9:].split(","))):
                    what, _, count = part.rpartition(" x")
                    requests[what] = int(count)
            elif line:
                files.append(line.split()[0])
        key = (found["title"], found["function"])
        paths[key] = Drawn(found["title"], found["function"], files, requests)
    return paths


@dataclass
class Traced:
    files: dict[str, list[str]]
    requests: dict[str, int]


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[Stack, Callable[..., Traced], dict[str, str]]]:
    monkeypatch = pytest.MonkeyPatch()
    # a query reads its generation pointer again every READER_CACHE_SECONDS: not part of
    # the path of one request
    monkeypatch.setattr("infra.generations.READER_CACHE_SECONDS", 3600.0)
    with open_stack(monkeypatch) as stack:
        api = stack.api
        admin = stack.admin_token()
        category = api.request("POST", "/categories", json_body={"name": "Map"}, token=admin)
        body = {
            "name": "Atlas",
            "description": "d",
            "price": "30.00",
            "category_id": category.json["id"],
        }
        product = api.request("POST", "/products", json_body=body, token=admin).json["id"]
        api.request("POST", f"/products/{product}/activate", token=admin)
        stack.project()
        handlers = dict(api.handlers)
        traced: dict[str, list[list[str]]] = {}

        def tracing(function: str) -> Any:
            def run(event: Any, context: Any) -> Any:
                with entered() as files:
                    answer = handlers[function](event, context)
                traced.setdefault(function, []).append(files)
                return answer

            return run

        api.handlers = {function: tracing(function) for function in handlers}
        counter = Requests(composition.container().dynamodb)
        tables = {name: logical for logical, name in stack.tables.items()}

        def trace(request: Callable[[], Any]) -> Traced:
            request()  # warm: what a cold start adds is not the path
            stack.project()
            traced.clear()
            counter.counts.clear()
            request()
            requests = {
                f"{operation} on {tables.get(table, table)}": n
                for (table, operation), n in counter.counts.items()
            }
            return Traced({f: runs[-1] for f, runs in traced.items()}, requests)

        yield stack, trace, {"admin": admin, "product": product}
    monkeypatch.undo()


@functools.cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("functions", "infra", "domain", "event_sourcing")


def _check(path: Drawn, files: list[str]) -> None:
    assert sorted(path.files) == sorted(files), (
        f"docs/architecture.md's map of {path.title} ({path.function}) is stale; "
        "the request entered, in this order:\n" + "\n".join(files)
    )
    handler = _module(_handler_of(path.function))
    unreached = [
        file
        for file in files
        if _module(file) != handler and not _graph().chain_exists(handler, _module(file))
    ]
    assert unreached == [], f"entered without an import from {handler}: {unreached}"


def _module(file: str) -> str:
    return file.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def _handler_of(function: str) -> str:
    from tests.support.template import model

    return model().functions[function].handler.rsplit(".", 1)[0].replace(".", "/") + ".py"


def test_a_price_change_is_drawn_as_it_runs_with_one_read_and_one_write_of_the_event_table(
    shop: tuple[Stack, Callable[..., Traced], dict[str, str]],
) -> None:
    stack, trace, ids = shop
    path = f"/products/{ids['product']}/price"
    prices = iter(["31.00", "32.00"])
    measured = trace(
        lambda: stack.api.request(
            "PUT", path, json_body={"price": next(prices)}, token=ids["admin"]
        )
    )
    command = drawn()[("PUT /products/{id}/price", "CatalogCommandsFunction")]
    _check(command, measured.files["CatalogCommandsFunction"])
    authorizer = drawn()[("PUT /products/{id}/price", "AuthorizerFunction")]
    _check(authorizer, measured.files["AuthorizerFunction"])
    assert Counter(measured.requests) == Counter(command.requests) + Counter(authorizer.requests)
    assert measured.requests.get("GetItem on EventsTable") == 1  # the caller's standing
    assert measured.requests.get("Query on EventsTable") == 1  # the product's stream
    assert measured.requests.get("PutItem on EventsTable") == 1


def test_a_product_query_is_drawn_as_it_runs(
    shop: tuple[Stack, Callable[..., Traced], dict[str, str]],
) -> None:
    stack, trace, ids = shop
    measured = trace(lambda: stack.api.request("GET", f"/products/{ids['product']}"))
    query = drawn()[("GET /products/{id}", "CatalogQueriesFunction")]
    _check(query, measured.files["CatalogQueriesFunction"])
    assert measured.requests == query.requests
