"""The local stack holding a shop: command latency at 100 and at 5,000 products, and one
100-item transaction beside 50,000 items, each a ratio to the same thing small, same run."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

SAMPLES = 30
SMALL, LARGE = 100, 5_000
BIG_TABLE = 50_000
ADMIN = ("admin@bench.example.com", "bench admin password")


@dataclass(frozen=True)
class ShopLatency:
    small_ms: float
    large_ms: float
    burst_p50_ms: float
    burst_p95_ms: float
    burst_statuses: tuple[int, ...]

    @property
    def ratio(self) -> float:
        return self.large_ms / self.small_ms


@dataclass(frozen=True)
class TransactionCost:
    empty_ms: float
    full_ms: float

    @property
    def ratio(self) -> float:
        return self.full_ms / self.empty_ms


def _create_products(stack: Any, token: str, category: str, count: int) -> list[float]:
    """Latencies of `count` POST /products, one at a time, each once the views caught up
    with the one before (the admin's pace; a backlog of projection would be measured too)."""
    url = stack.url
    session = requests.Session()
    latencies = []
    for _ in range(count):
        stack.pump.wait_idle(timeout=60)
        body = {
            "name": f"Product {uuid.uuid4().hex[:12]}",
            "description": "a thing",
            "price": "12.50",
            "category_id": category,
        }
        started = time.perf_counter()
        answer = session.post(
            f"{url}/products", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        latencies.append(time.perf_counter() - started)
        if answer.status_code >= 500:
            raise RuntimeError(f"POST /products answered {answer.status_code}: {answer.text}")
    return latencies


WRITERS, CHANGES = 8, 10


def _burst(url: str, token: str, category: str) -> tuple[list[float], set[int]]:
    """WRITERS clients changing one product's price CHANGES times each, all at once, no
    If-Match: the latencies and the statuses they got."""
    import threading

    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": f"Burst {uuid.uuid4().hex[:8]}", "description": "d", "price": "20.00"}
    pid = requests.post(
        f"{url}/products", json={**body, "category_id": category}, headers=headers, timeout=30
    ).json()["id"]
    barrier = threading.Barrier(WRITERS)
    latencies: list[float] = []
    statuses: set[int] = set()
    lock = threading.Lock()

    def writer(n: int) -> None:
        session = requests.Session()
        barrier.wait()
        for i in range(CHANGES):
            started = time.perf_counter()
            answer = session.put(
                f"{url}/products/{pid}/price",
                json={"price": f"20.{n * CHANGES + i + 1:02d}"},
                headers=headers,
                timeout=30,
            )
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.add(answer.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def _seed(stack: Any, category: str, count: int) -> None:
    """Products straight through the catalogue's use case (the stack's own credentials)."""
    from decimal import Decimal

    from domain.access import Caller, CommandContext, Role
    from domain.catalog import service as catalog
    from domain.catalog.commands import CreateProduct
    from infra.container import Container

    env = stack.resolved_env("CatalogCommandsFunction", as_function=False)
    # boto3 reads its endpoint from the process's environment: the stack's, never AWS
    os.environ["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]
    container = Container(env)
    context = CommandContext(f"bench-{uuid.uuid4()}", "bench", Caller("bench", Role.ADMIN))
    for _ in range(count):
        command = CreateProduct(
            f"Seed {uuid.uuid4().hex[:12]}", "seeded", Decimal("9.99"), category
        )
        catalog.create_product(container.repository, command, context)


def measure_shop() -> ShopLatency:
    from devstack.logs import discard
    from devstack.stack import LocalStack

    env = {**os.environ, "LOCAL_ADMIN_EMAIL": ADMIN[0], "LOCAL_ADMIN_PASSWORD": ADMIN[1]}
    env.pop("AWS_ENDPOINT_URL", None)
    with LocalStack(
        stack_name=f"bench-{uuid.uuid4().hex[:6]}",
        env=env,
        parameter_overrides={"BcryptRounds": "4"},
        prewarm=True,
        log=discard,
    ) as stack:
        token = requests.post(
            f"{stack.url}/auth/token", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=30
        ).json()["access_token"]
        category = requests.post(
            f"{stack.url}/categories",
            json={"name": "Bench"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()["id"]
        _seed(stack, category, SMALL - SAMPLES)
        stack.pump.wait_idle(timeout=120)
        small = _create_products(stack, token, category, SAMPLES)
        _seed(stack, category, LARGE - SMALL - SAMPLES)
        stack.pump.wait_idle(timeout=600)
        large = _create_products(stack, token, category, SAMPLES)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        burst, statuses = _burst(stack.url, token, category)
        cuts = statistics.quantiles(burst, n=20)
        return ShopLatency(
            small_ms=statistics.median(small) * 1000,
            large_ms=statistics.median(large) * 1000,
            burst_p50_ms=statistics.median(burst) * 1000,
            burst_p95_ms=cuts[18] * 1000,
            burst_statuses=tuple(sorted(statuses)),
        )


def measure_transaction() -> TransactionCost:
    """One 100-item TransactWriteItems on moto (with devstack's fixes), on an empty table and
    on one of 50,000 items, through the real API."""
    import boto3
    from moto import mock_aws

    from devstack import moto_fixes

    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("empty", "full"):
            client.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "stream_id", "AttributeType": "S"},
                    {"AttributeName": "version", "AttributeType": "N"},
                ],
                KeySchema=[
                    {"AttributeName": "stream_id", "KeyType": "HASH"},
                    {"AttributeName": "version", "KeyType": "RANGE"},
                ],
            )
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"]["us-east-1"].tables["full"]
        for i in range(BIG_TABLE):  # in-process: the API would take minutes to fill it
            table.put_item({"stream_id": {"S": f"s-{i // 10}"}, "version": {"N": str(i % 10)}})

        def once(name: str) -> float:
            stream = uuid.uuid4().hex
            items: Any = [
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"stream_id": {"S": stream}, "version": {"N": str(v)}},
                        "ConditionExpression": "attribute_not_exists(stream_id)",
                    }
                }
                for v in range(1, 101)
            ]
            started = time.perf_counter()
            client.transact_write_items(TransactItems=items)
            return time.perf_counter() - started

        empty, full = [], []
        for _ in range(5):
            empty.append(once("empty"))
            full.append(once("full"))
        return TransactionCost(statistics.median(empty) * 1000, statistics.median(full) * 1000)
