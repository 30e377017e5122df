"""`eventshop-admin --local partitions`, run as an operator runs it (its own process), reads
the hot keys that the embedded endpoint of a running local stack counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.backend import AwsClients, Backend
from devstack.running import RunningStack
from tests.devstack.support import REPO_ROOT, unique_stack_name


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Any]:
    backend = Backend({"AWS_DEFAULT_REGION": "us-east-1"})
    settings = backend.start()
    try:
        yield settings
    finally:
        backend.stop()


def recorded(directory: Path, settings: Any, tables: dict[str, str]) -> str:
    """A running stack's record (.devstack/<name>.json) naming the endpoint and tables."""
    name = unique_stack_name("hot")
    RunningStack(
        name,
        settings.endpoint_url,
        "http://127.0.0.1:1",
        os.getpid(),
        outputs={f"{logical}Name": table for logical, table in tables.items()},
        environment=settings.environment(),
    ).save(directory)
    return name


def admin(directory: Path, stack: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LOCAL_STACK_NAME": stack, "PYTHONPATH": str(REPO_ROOT)},
        check=False,
    )


def test_partitions_lists_the_hottest_keys_of_the_stacks_tables_with_units_per_second(
    endpoint: Any, tmp_path: Path
) -> None:
    client = AwsClients(endpoint).dynamodb()
    mine, other = unique_stack_name("things"), unique_stack_name("elsewhere")
    for table in (mine, other):
        client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
    for n in range(6):
        client.put_item(TableName=mine, Item={"pk": {"S": "hot"}, "n": {"N": str(n)}})
    client.put_item(TableName=mine, Item={"pk": {"S": "cold"}, "x": {"S": "x" * 1500}})
    client.get_item(TableName=mine, Key={"pk": {"S": "cold"}}, ConsistentRead=True)
    client.put_item(TableName=other, Item={"pk": {"S": "not mine"}})
    stack = recorded(tmp_path, endpoint, {"ThingsTable": mine})

    done = admin(tmp_path, stack, "--local", "--json", "partitions", "--seconds", "10")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["window_seconds"] == 10
    listed = [(p["table_id"], p["key"], p["writes"]) for p in answer["partitions"]]
    assert listed == [("ThingsTable", "hot", 6), ("ThingsTable", "cold", 1)]
    hot, cold = answer["partitions"]
    assert hot["write_units_per_second"] == pytest.approx(6 / 10)
    assert cold["peak_write_units_per_second"] == 2  # 1.5 KB: two units
    assert cold["peak_read_units_per_second"] == 1

    text = admin(tmp_path, stack, "--local", "partitions")
    assert text.returncode == 0, text.stderr
    assert "ThingsTable:" in text.stdout
    assert "not mine" not in text.stdout
    assert text.stdout.index(" hot ") < text.stdout.index(" cold ")


def test_partitions_of_a_deployed_stack_points_to_contributor_insights(tmp_path: Path) -> None:
    done = admin(tmp_path, "none", "partitions")
    assert done.returncode == 2
    assert "--local" in done.stderr
    assert "Contributor Insights" in done.stderr
