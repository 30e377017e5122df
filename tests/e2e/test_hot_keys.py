"""Hot keys on the running local stack: after some requests, `eventshop-admin --local
partitions` (its own process, as an operator runs it) and the console's /console/partitions
name the partitions those requests loaded, with read and write units per second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import Client

pytestmark = pytest.mark.e2e


def test_the_running_stack_reports_the_keys_its_requests_loaded(
    stack: LocalStack, api: Client
) -> None:
    email = f"hot-{uuid.uuid4().hex[:10]}@example.com"
    created = api.call("POST", "/users", {"email": email, "password": "pass word 1"})
    assert created.status_code == 201, created.text
    user = created.json()["id"]
    token = api.token(email, "pass word 1")
    for _ in range(3):
        assert api.call("GET", "/users/me", token=token).status_code in (200, 404)

    done = subprocess.run(
        [sys.executable, "-m", "infra.cli", "--local", "--json", "partitions", "--top", "1000"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOCAL_STACK_NAME": stack.stack_name},
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    answer = json.loads(done.stdout)
    events = stack.table_name("EventsTable")
    mine = [p for p in answer["partitions"] if p["key"] == f"user-{user}"]
    assert [p["table"] for p in mine] == [events]
    (stream,) = mine
    assert stream["table_id"] == "EventsTable"
    assert stream["writes"] >= 1
    assert stream["write_units_per_second"] > 0
    assert stream["peak_write_units_per_second"] >= 2  # a transactional write: twice
    tables = {p["table"] for p in answer["partitions"]}
    assert stack.table_name("ThrottleTable") in tables  # sign-in's throttle counts too
    assert stack.table_name("ViewsTable") in tables  # the projector's writes, the reads

    page = api.session.get(f"{stack.url}/console/partitions", timeout=30)
    assert page.status_code == 200, page.text
    assert "Hot partitions" in page.text
    assert f"EVENTS_TABLE ({events})" in page.text
    assert "units/s" in page.text
