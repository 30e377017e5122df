"""Function sandboxes: worker processes, Lambda's context and errors, timeouts, concurrency."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.runtime import FunctionPool, InvokeResult, function_environment
from devstack.sam import FunctionSpec
from tests.devstack.support import REPO_ROOT, LogLines, eventually

AWS = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def spec(handler: str, *, timeout: int = 3, env: dict[str, str] | None = None) -> FunctionSpec:
    return FunctionSpec(
        logical_id="ToyFunction",
        name="demo-ToyFunction",
        arn="arn:aws:lambda:eu-west-1:123456789012:function:demo-ToyFunction",
        handler=f"tests.devstack.fixtures.{handler}",
        runtime="python3.12",
        code_dir=REPO_ROOT,
        timeout=timeout,
        memory_size=256,
        environment=env or {},
    )


def start_pool(function: FunctionSpec, log: LogLines, **options: Any) -> FunctionPool:
    parent = {"PATH": os.environ.get("PATH", ""), "AWS_SAM_LOCAL": "true"}
    pool = FunctionPool(function, function_environment(function, AWS, parent), log, **options)
    pool.start()
    return pool


@pytest.fixture
def log() -> LogLines:
    return LogLines()


@pytest.fixture
def echo(log: LogLines) -> Iterator[FunctionPool]:
    pool = start_pool(spec("toy.echo", timeout=1, env={"OWN": "mine", "AWS_REGION": "nope"}), log)
    yield pool
    pool.stop()


def body(result: InvokeResult) -> dict[str, Any]:
    assert result.ok, result.error
    decoded: dict[str, Any] = json.loads(result.payload["body"])
    return decoded


def test_environment_is_the_lambda_sandbox(echo: FunctionPool) -> None:
    env = body(echo.invoke({}))["env"]
    assert env["OWN"] == "mine"
    assert env["AWS_REGION"] == "eu-west-1"  # reserved: the function cannot override it
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "demo-ToyFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["_HANDLER"] == "tests.devstack.fixtures.toy.echo"
    assert env["LAMBDA_TASK_ROOT"] == str(REPO_ROOT)
    assert env["_X_AMZN_TRACE_ID"].endswith("Sampled=0")
    assert "AWS_SAM_LOCAL" not in env


def test_a_handler_gets_lambdas_context_object(echo: FunctionPool) -> None:
    result = echo.invoke({"hello": "world"})
    seen = body(result)
    assert seen["event"] == {"hello": "world"}
    context = seen["context"]
    assert context["function_name"] == "demo-ToyFunction"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(":function:demo-ToyFunction")
    assert context["memory_limit_in_mb"] == "256"  # a string, as in the Python runtime
    assert context["aws_request_id"] == result.request_id
    assert context["log_group_name"] == "/aws/lambda/demo-ToyFunction"
    assert "[$LATEST]" in context["log_stream_name"]
    assert 0 < context["remaining_ms"] <= 1000


def test_module_state_survives_between_invocations(echo: FunctionPool) -> None:
    first, second = body(echo.invoke({})), body(echo.invoke({}))
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_timeout_kills_the_worker(echo: FunctionPool, log: LogLines) -> None:
    before = body(echo.invoke({}))["pid"]
    started = time.monotonic()
    result = echo.invoke({"sleep": 5})
    assert time.monotonic() - started < 3
    assert result.error is not None
    assert result.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.error["errorMessage"]
    assert log.containing("Task timed out")
    after = body(echo.invoke({}))
    assert after["pid"] != before
    assert after["invocations"] == 1  # a fresh sandbox: a cold start


def test_handler_exception_is_a_lambda_error(log: LogLines) -> None:
    pool = start_pool(spec("toy.boom"), log)
    try:
        error = pool.invoke({}).error
        assert error is not None
        assert error["errorType"] == "ValueError"
        assert error["errorMessage"] == "boom"
        assert any("toy.py" in frame for frame in error["stackTrace"])
        eventually(lambda: bool(log.containing("[ToyFunction] [ERROR] ValueError: boom")))
    finally:
        pool.stop()


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (
            "no_such_module.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'tests.devstack.fixtures.no_such_module'",
        ),
        ("toy.absent", "Runtime.HandlerNotFound", "Handler 'absent' missing"),
        ("toy.unserializable", "Runtime.MarshalError", "Unable to marshal response"),
    ],
)
def test_a_handlers_failure_is_reported_as_lambdas_error_type(
    log: LogLines, handler: str, error_type: str, message: str
) -> None:
    pool = start_pool(spec(handler), log)
    try:
        error = pool.invoke({}).error
        assert error is not None
        assert error["errorType"] == error_type
        assert message in error["errorMessage"]
    finally:
        pool.stop()


def test_concurrent_invocations_run_in_parallel_workers(log: LogLines) -> None:
    pool = start_pool(spec("toy.echo"), log)
    results: list[InvokeResult] = []

    def call() -> None:
        results.append(pool.invoke({"sleep": 0.6}))

    try:
        started = time.monotonic()
        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert time.monotonic() - started < 2.0
        assert len({body(result)["pid"] for result in results}) == 4
    finally:
        pool.stop()


def test_pool_size_is_capped(log: LogLines) -> None:
    pool = start_pool(spec("toy.echo"), log, max_workers=2)
    results: list[InvokeResult] = []
    try:
        threads = [
            threading.Thread(target=lambda: results.append(pool.invoke({"sleep": 0.3})))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({body(result)["pid"] for result in results}) <= 2
    finally:
        pool.stop()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_stop_ends_the_workers(log: LogLines) -> None:
    pool = start_pool(spec("toy.echo"), log)
    pid = body(pool.invoke({}))["pid"]
    pool.stop()
    eventually(lambda: _gone(pid))


PARENT = """
import json, os, time
from devstack.runtime import FunctionPool, function_environment
from tests.devstack.test_runtime import AWS, spec
function = spec("toy.echo")
pool = FunctionPool(function, function_environment(function, AWS, dict(os.environ)), print)
pool.start()
result = pool.invoke({})
print("PID", json.loads(result.payload["body"])["pid"], flush=True)
time.sleep(60)
"""


def test_workers_die_with_their_parent() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        line = next(line for line in parent.stdout if line.startswith("PID"))
        worker = int(line.split()[1])
        assert not _gone(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        eventually(lambda: _gone(worker) or _zombie(worker), timeout=5)
    finally:
        parent.kill()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
