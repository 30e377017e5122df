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


def test_the_me_sample_waits_then_says_the_view_is_behind(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.queries.identity import handler
    from functions.shared import consistency

    monkeypatch.setattr(consistency, "WAIT_SECONDS", 0.05)
    assert handler(sample("me"), FakeLambdaContext())["statusCode"] == 503


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
