"""The sample events under events/ (for `sam local invoke -e`) are real: each runs through
its function on moto and gets a contract answer, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.support.lambda_context import FakeLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@pytest.mark.parametrize(
    ("name", "module", "statuses"),
    [
        ("register", "functions.commands.identity", {201}),
        ("issue-token", "functions.commands.identity", {200}),
        ("change-password", "functions.commands.identity", {404}),
        ("deactivate", "functions.commands.identity", {404}),
        ("openapi", "functions.docs", {200}),
        ("create-category", "functions.commands.catalog", {201}),
        ("create-product", "functions.commands.catalog", {422}),
        ("search-products", "functions.queries.catalog", {200}),
        ("product", "functions.queries.catalog", {404}),
        ("create-order", "functions.commands.ordering", {422}),
        ("place-order", "functions.commands.ordering", {404}),
        ("set-stock", "functions.commands.ordering", {404}),
        ("order", "functions.queries.ordering", {401, 404}),
        ("export", "functions.queries.export", {404}),
    ],
)
def test_http_samples_get_contract_answers(
    stack: Stack, name: str, module: str, statuses: set[int]
) -> None:
    import importlib

    handler = importlib.import_module(module).handler
    if name == "issue-token":
        handler(sample("register"), FakeLambdaContext())
    answer = handler(sample(name), FakeLambdaContext())
    assert answer["statusCode"] in statuses, answer["body"]


def test_the_me_sample_waits_then_says_no_such_user_registered(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.queries.identity import handler

    monkeypatch.setattr("functions.shared.http.WAIT_SECONDS", 0.05)
    # its user never registered here: no stream at all, so no view will ever come (not a 503)
    assert handler(sample("me"), FakeLambdaContext())["statusCode"] == 404


def test_the_authorizer_sample_is_resolved_to_a_refusal_reason(stack: Stack) -> None:
    from functions.authorizer.app import handler

    decision = handler(sample("authorizer"), FakeLambdaContext())
    assert decision["isAuthorized"] is True
    assert decision["context"]["error_code"] == "token_invalid"


def test_the_stream_sample_projects_cleanly(stack: Stack) -> None:
    from functions.projectors.app import handler

    assert handler(sample("stream-batch"), FakeLambdaContext()) == {"batchItemFailures": []}


def test_the_order_stream_sample_runs_through_the_process(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.processes.orders import handler

    monkeypatch.setenv("NOTIFY_FROM", "orders@shop.example.com")

    # The sample names an order this store does not hold: the process has nothing to do.
    assert handler(sample("order-stream-batch"), FakeLambdaContext()) == {"batchItemFailures": []}


SAMPLES = {
    "AuthorizerFunction": "authorizer",
    "IdentityCommandsFunction": "register",
    "IdentityQueriesFunction": "me",
    "ExportFunction": "export",
    "CatalogCommandsFunction": "create-category",
    "CatalogQueriesFunction": "search-products",
    "OrderingCommandsFunction": "create-order",
    "OrderingQueriesFunction": "order",
    "OrderProcessFunction": "order-stream-batch",
    "ProjectorFunction": "stream-batch",
    "DocsFunction": "openapi",
    "OutsideCallsFunction": "outside-calls",
}
"""One sample per function, for `python -m devstack invoke <LogicalId> --event events/<name>.json`
(docs/operations.md); the console (local stack only) has none."""


def test_every_function_but_the_console_has_a_sample_event_of_its_own_kind() -> None:
    from tests.support.template import http_routes, model

    functions = set(model().functions)
    routes = {(r.function, r.key) for r in http_routes()}
    readers = {m.function_logical_id for m in model().stream_mappings}

    assert set(SAMPLES) == functions - {"ConsoleFunction"}
    for function, name in SAMPLES.items():
        event = sample(name)
        if function in readers:
            assert event["Records"][0]["eventSource"] == "aws:dynamodb", name
        elif function == "AuthorizerFunction":
            assert event["type"] == "REQUEST", name
        elif function == "OutsideCallsFunction":  # its queue's mapping
            assert event["Records"][0]["eventSource"] == "aws:sqs", name
        else:
            assert (function, event["routeKey"]) in routes, name


def test_the_outside_calls_sample_runs_through_the_queues_function(stack: Stack) -> None:
    from functions.processes.calls import handler

    # The sample names an order this store does not hold: nothing is due, nothing fails.
    assert handler(sample("outside-calls"), FakeLambdaContext()) == {"batchItemFailures": []}


def test_events_readme_maps_every_sample_to_its_function() -> None:
    from tests.support.samples import function_of, samples

    rows = {
        line.split("|")[1].strip(" `"): line.split("|")[2].strip()
        for line in (EVENTS / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    assert {p.name: function_of(p) for p in samples()} == rows
