"""The operator's day two, on the local stack, through `eventshop-admin --local` run as a
user runs it (its own process): a batch parked by a projector failure is listed, decoded,
and redriven once the cause is fixed; status, events, replay and a blue/green rebuild.

The failure is a classic one: the projector's role lacks an action its commits need (its
policy here loses `dynamodb:PutItem`, as a template edit could make it), then a
fixed deployment gives it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from devstack import iam
from devstack.logs import ConsoleLog
from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client, rebuilt_views

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    environment = {
        **os.environ,
        "LOCAL_ADMIN_EMAIL": ADMIN_EMAIL,
        "LOCAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    environment.pop("AWS_ENDPOINT_URL", None)
    with LocalStack(
        port=0,
        stack_name=f"ops-{uuid.uuid4().hex[:8]}",
        env=environment,
        parameter_overrides={"BcryptRounds": "4"},
        log=ConsoleLog(),
    ) as running:
        yield running


def admin(stack: LocalStack, *args: str) -> Any:
    """`eventshop-admin --local --json ARGS` in a process of its own; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "infra.cli", "--local", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOCAL_STACK_NAME": stack.stack_name},
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def test_a_parked_batch_is_listed_decoded_and_redriven_once_its_cause_is_fixed(
    stack: LocalStack,
) -> None:
    api = Client(stack.url)
    token = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    _, hammer = api.new_product(token, "Tools", "Hammer", "steel", "20.00")

    # The projector's role loses an action its commits need (a commit's Put of a document:
    # since issue #20 its commits condition-check no generation pointer).
    key = iam.access_key_for(stack.stack_name, "ProjectorFunction")
    granted = stack.deployment.principals["ProjectorFunction"]
    denied = iam.Statement.parse({"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*"})
    iam.registry.register(
        key, replace(granted, policy=iam.Policy((*granted.policy.statements, denied)))
    )
    for price in ("18.00", "17.50"):
        changed = api.call("PUT", f"/products/{hammer}/price", {"price": price}, token=token)
        assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 60
    while not (parked := admin(stack, "failures")["failures"]):
        assert time.monotonic() < deadline, "no batch was parked"
        time.sleep(1)

    streams = {s["stream"]: s for p in parked for s in p["streams"]}
    assert parked[0]["reader"] == "projector"
    assert parked[0]["condition"] == "RetryAttemptsExhausted"
    mine = streams[f"product-{hammer}"]
    assert set(mine["versions"]) <= {2, 3}
    assert "PutItem" in (mine["error"] or "")
    stuck = api.call("GET", f"/products/{hammer}", token=token).json()
    assert stuck["price"] == "20.00"

    iam.registry.register(key, granted)  # the fixed deployment
    redriven = admin(stack, "redrive", "--all")["redriven"]
    assert redriven
    assert all(r["done"] for r in redriven), redriven
    assert admin(stack, "failures")["failures"] == []
    again = subprocess.run(
        [sys.executable, "-m", "infra.cli", "--local", "redrive", "--all"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOCAL_STACK_NAME": stack.stack_name},
        check=False,
    )
    assert (again.returncode, again.stdout.strip()) == (
        0,
        "nothing to redrive: no batch is parked on either on-failure queue",
    )
    fixed = api.call("GET", f"/products/{hammer}", token=token).json()
    assert (fixed["price"], fixed["version"]) == ("17.50", 3)
    current, rebuilt = rebuilt_views(stack)
    assert current == rebuilt

    status = admin(stack, "status")
    projector = next(r for r in status["readers"] if r["reader"] == "projector")
    assert projector["parked_batches"] == 0
    assert "PutItem" in projector["last_error"]["error"]
    # the redriven batch counts as applied: nothing behind, no lag
    assert (projector["events_behind"], projector["lag_seconds"]) == (0, 0.0), projector
    assert {p["projection"] for p in status["projections"]} == {
        "catalog",
        "ordering",
        "product-stats",
        "users",
    }

    history = admin(stack, "events", f"product-{hammer}")["events"]
    assert [e["version"] for e in history] == [1, 2, 3]
    assert all(e["metadata"]["event_id"] and e["metadata"]["correlation_id"] for e in history)

    replayed = admin(stack, "replay", "--since", "1h")["replayed"]
    assert replayed["streams"] >= 3
    assert replayed["events_applied"] == 0, "redrive left nothing to apply"


def test_a_rebuild_switches_readers_to_a_new_generation_while_they_keep_answering(
    stack: LocalStack,
) -> None:
    api = Client(stack.url)
    found = api.call("GET", "/products", params={"q": "hammer"}).json()["items"]
    # the default fence (65 s): the local pump shows when the projector lets go
    rebuilt = admin(stack, "rebuild", "--projection", "catalog", "--drop-after", "6")["rebuilt"]
    assert rebuilt[0]["fences_released"] == 2, "both fences ended when the projector let go"
    assert rebuilt[0]["generation"] == 2
    assert rebuilt[0]["replaced"] == 1
    assert api.call("GET", "/products", params={"q": "hammer"}).json()["items"] == found
    status = admin(stack, "status")
    catalog = next(p for p in status["projections"] if p["projection"] == "catalog")
    assert catalog["live"]["number"] == 2
    assert catalog["retiring"] is None


def test_a_parked_outside_call_is_listed_and_redriven_to_its_queue(stack: LocalStack) -> None:
    """A due email that failed every receive sits on the outside-calls dead-letter queue:
    `failures` names its stream and step, `redrive` sends it back, and its consumer,
    deciding on the user's state, mails nothing twice."""
    api = Client(stack.url)
    email = f"parked-{uuid.uuid4().hex[:6]}@ops.example.com"
    api.call("POST", "/users", {"email": email, "password": "customer pass"})
    token = api.token(email, "customer pass")
    user_id = api.call("GET", "/users/me", token=token).json()["id"]
    mailbox = stack.mailbox
    assert mailbox is not None

    def welcomes() -> int:
        return len([m for m in mailbox.messages if email in m.to])

    deadline = time.monotonic() + 30
    while welcomes() < 1:
        assert time.monotonic() < deadline, "no welcome email"
        time.sleep(0.2)
    work = {
        "stream_id": f"user-{user_id}",
        "step": "welcome",
        "version": 1,
        "correlation_id": "ops",
        "causation_id": "ops",
    }
    sqs = stack.clients.sqs()
    sqs.send_message(
        QueueUrl=stack.queue_url("OutsideCallsDeadLetterQueue"), MessageBody=json.dumps(work)
    )

    (parked,) = admin(stack, "failures")["parked_calls"]
    assert (parked["consumer"], parked["stream"], parked["step"]) == (
        "outside-calls",
        f"user-{user_id}",
        "welcome",
    )
    status = admin(stack, "status")
    (queue,) = status["queues"]
    assert (queue["consumer"], queue["parked"]) == ("outside-calls", 1)

    (redriven,) = admin(stack, "redrive", parked["id"])["redriven"]
    assert redriven["done"], redriven
    assert admin(stack, "failures")["parked_calls"] == []
    deadline = time.monotonic() + 30
    while admin(stack, "status")["queues"][0]["waiting"] or stack_busy(stack):
        assert time.monotonic() < deadline, "the redriven call never ran"
        time.sleep(0.5)
    assert welcomes() == 1


def stack_busy(stack: LocalStack) -> bool:
    try:
        stack.pump.wait_idle(timeout=5)
    except TimeoutError:
        return True
    return False
