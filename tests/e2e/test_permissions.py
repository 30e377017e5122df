"""The local stack runs every function under its role, as AWS would: a grant taken out of
template.yaml is a refused call, and the stack's log names the function, action and resource."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import DEFAULT_TEMPLATE, LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client

pytestmark = pytest.mark.e2e

APPEND = "Action: [dynamodb:Query, dynamodb:PutItem, "
"""How the function's event-table grant begins (the rest of its actions follow)."""


def without_put_item(function: str, tmp_path: Path) -> Path:
    """template.yaml with dynamodb:PutItem (what a transaction's Put items need) taken out
    of `function`'s event-table grant."""
    text = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    start = text.index(f"\n  {function}:\n")
    grant = text.index(APPEND, start)
    text = text[:grant] + APPEND.replace(" dynamodb:PutItem,", "") + text[grant + len(APPEND) :]
    text = text.replace("    CodeUri: .\n", f"    CodeUri: {DEFAULT_TEMPLATE.parent}\n", 1)
    path = tmp_path / "template.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def log() -> list[str]:
    return []


@pytest.fixture(scope="module")
def crippled(tmp_path_factory: pytest.TempPathFactory, log: list[str]) -> Iterator[LocalStack]:
    template = without_put_item("OrderingCommandsFunction", tmp_path_factory.mktemp("iam"))
    env = {**os.environ, "LOCAL_ADMIN_EMAIL": ADMIN_EMAIL, "LOCAL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    env.pop("AWS_ENDPOINT_URL", None)
    with LocalStack(
        template,
        port=0,
        stack_name=f"iam-{uuid.uuid4().hex[:8]}",
        env=env,
        parameter_overrides={"BcryptRounds": "4"},
        log=log.append,
    ) as running:
        yield running


def test_an_order_is_refused_when_its_function_may_not_write_the_event_table(
    crippled: LocalStack, log: list[str]
) -> None:
    api = Client(crippled.url)
    admin = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    category = api.call("POST", "/categories", {"name": "Books"}, token=admin).json()["id"]
    product = api.call(
        "POST",
        "/products",
        {"name": "Dune", "description": "d", "price": "9.00", "category_id": category},
        token=admin,
    ).json()["id"]
    assert api.call("POST", f"/products/{product}/activate", token=admin).status_code == 200
    body = {"email": "ada@example.com", "password": "ada password 1"}
    assert api.call("POST", "/users", body).status_code == 201
    ada = api.token(body["email"], body["password"])

    answer = api.call(
        "POST", "/orders", {"items": [{"product_id": product, "quantity": 1}]}, token=ada
    )

    assert answer.status_code == 500
    events_table = crippled.table_name("EventsTable")
    assert any(
        line.startswith("[iam] AccessDenied: OrderingCommandsFunction may not dynamodb:PutItem")
        and line.endswith(f":table/{events_table}")
        for line in log
    ), "\n".join(line for line in log if "iam" in line)
    denied = [line for line in log if line.startswith("[iam] AccessDenied")]
    assert all("OrderingCommandsFunction may not dynamodb:PutItem" in line for line in denied)
