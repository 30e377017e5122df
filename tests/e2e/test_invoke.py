"""`python -m devstack invoke`: every sample event of events/ runs through its function, once,
against the running local stack, under the function's role; and never toward real AWS."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from devstack.__main__ import main
from devstack.running import RunningStack
from devstack.stack import DEFAULT_TEMPLATE, LocalStack
from tests.support.samples import EVENTS, function_of, samples

pytestmark = pytest.mark.e2e


def invoked(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    """The exit code and the printed result (the running stack, in this same process, logs
    to stdout too: the result is the last document, printed whole)."""
    code = main(["invoke", *argv])
    out = capsys.readouterr().out
    start = out.rindex("\n{\n") + 1 if not out.startswith("{\n") else 0
    end = out.index("\n}\n", start) + 2
    return code, json.loads(out[start:end])


@pytest.mark.parametrize("sample", [p.name for p in samples()])
def test_every_sample_event_gets_a_contract_answer_from_its_function(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], sample: str
) -> None:
    path = EVENTS / sample
    code, result = invoked(
        capsys, function_of(path), "--event", str(path), "--stack-name", stack.stack_name
    )

    assert code == 0, result
    if "statusCode" in result:
        # a 5xx only as the contract allows one: a view behind `?min_version` (me.json)
        behind = result["statusCode"] == 503 and "Retry-After" in result["headers"]
        assert result["statusCode"] < 500 or behind, result
        body = json.loads(result["body"])
        assert result["statusCode"] < 400 or set(body) == {"error"}
    elif "isAuthorized" in result:
        assert result["isAuthorized"] is True
    else:
        assert result == {"batchItemFailures": []}


def registration_of_its_own(tmp_path: Path) -> Path:
    """events/register.json for an email (and idempotency key) of its own: on the session's
    stack ada@example.com may be registered already (by the samples or schemathesis' examples),
    and a 409 names no email to look for."""
    event = json.loads((EVENTS / "register.json").read_text(encoding="utf-8"))
    unique = uuid.uuid4().hex[:8]
    event["body"] = json.dumps({**json.loads(event["body"]), "email": f"ada-{unique}@example.com"})
    event["headers"]["idempotency-key"] = f"register-ada-{unique}"
    path = tmp_path / "register.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


def test_invoke_runs_as_the_function_against_the_running_stack(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = invoked(
        capsys,
        "IdentityCommandsFunction",
        "--event",
        str(registration_of_its_own(tmp_path)),
        "--stack-name",
        stack.stack_name,
    )
    email = json.loads(result["body"]).get("email")
    users = stack.clients.dynamodb().scan(TableName=stack.table_name("EventsTable"))["Items"]

    assert code == 0
    assert result["statusCode"] in (201, 409)
    assert any(item.get("owner") or email in json.dumps(item) for item in users)
    # the invoke leaves the running stack as it found it: still found by the CLI and later
    # invokes
    assert RunningStack.find(stack.template.directory, stack.stack_name) is not None


def test_an_unknown_function_is_named_with_the_ones_that_exist(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(EVENTS / "register.json")

    assert (
        main(["invoke", "NoSuchFunction", "--event", path, "--stack-name", stack.stack_name]) == 2
    )
    assert "IdentityCommandsFunction" in capsys.readouterr().err


def test_an_endpoint_off_this_machine_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://dynamodb.us-east-1.amazonaws.com")
    path = str(EVENTS / "register.json")

    assert (
        main(["invoke", "IdentityCommandsFunction", "--event", path, "--stack-name", "none"]) == 2
    )
    assert "not on this machine" in capsys.readouterr().err


def test_with_no_stack_running_it_brings_its_own() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack",
            "invoke",
            "DocsFunction",
            "-e",
            "events/openapi.json",
            "--stack-name",
            "invoke-alone",
        ],
        cwd=DEFAULT_TEMPLATE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statusCode"] == 200
    assert "using an embedded one" in done.stderr
