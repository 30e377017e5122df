"""`eventshop-admin --local seed --products N` fills the running stack with a demo shop
through its HTTP API: categories, active products with descriptions and stock, customers,
and orders in every state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import Client

pytestmark = pytest.mark.e2e


def seeded(stack: LocalStack, products: int) -> Any:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "--local",
            "--json",
            "seed",
            "--products",
            str(products),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LOCAL_STACK_NAME": stack.stack_name},
        cwd=stack.template.directory,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)["seeded"]


def test_seed_fills_the_shop_with_products_customers_and_orders_in_every_state(
    stack: LocalStack,
) -> None:
    summary = seeded(stack, 12)
    assert summary["products"] == 12
    assert summary["categories"] >= 8
    assert summary["customers"] == 3
    assert summary["orders"] == {"draft": 1, "placed": 1, "cancelled": 1, "declined": 1}

    api = Client(stack.url)
    tag = summary["tag"]
    deadline = time.monotonic() + 30
    while True:
        found = api.call("GET", "/products", params={"q": tag, "with_total": "true"}).json()
        if found["total_count"] == 12 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found["total_count"] == 12  # public: every one active
    first = found["items"][0]
    assert first["description"].startswith(("A ", "An "))
    assert first["price"]

    tokens = [api.token(f"customer-{tag}-{n}@demo.example.com", "demo password") for n in range(3)]
    while True:
        statuses = sorted(
            o["status"] for t in tokens for o in api.call("GET", "/orders", token=t).json()["items"]
        )
        if statuses == ["cancelled", "cancelled", "confirmed", "draft"]:
            break
        assert time.monotonic() < deadline + 30, statuses
        time.sleep(0.5)
