"""What `make run` prints by default: one line per request (method, path, status, ms,
function) and one per stream batch; the functions' own output (their logs, EMF metrics,
Lambda's REPORT lines) only with LOG_LEVEL=DEBUG."""

from __future__ import annotations

import re

import pytest
import requests

from devstack.logs import ConsoleLog, detail_of, verbose
from devstack.stack import LocalStack
from tests.devstack.support import FIXTURES, LogLines, unique_stack_name
from tests.devstack.test_pump import put


class Console(LogLines):
    """The summary lines; `detail` keeps what LOG_LEVEL=DEBUG would add."""

    def __init__(self) -> None:
        super().__init__()
        self.detail = LogLines()


def lines(log: LogLines) -> list[str]:
    return log.containing("")


@pytest.fixture(scope="module")
def gateway_log() -> Console:
    log = Console()
    env = {"LOCAL_ADMIN_EMAIL": "root@example.test", "LOCAL_ADMIN_PASSWORD": "pw-1"}
    with LocalStack(
        FIXTURES / "gateway.yaml", stack_name=unique_stack_name("logs"), env=env, log=log
    ) as stack:
        requests.get(f"{stack.url}/items/special", timeout=30)
        requests.get(f"{stack.url}/boom", timeout=30)
        requests.get(f"{stack.url}/nowhere", timeout=30)
    return log


def test_each_request_is_one_line_with_method_path_status_ms_and_function(
    gateway_log: Console,
) -> None:
    gateway = [line for line in lines(gateway_log) if line.startswith("[gateway]")]
    assert any(
        re.fullmatch(r"\[gateway\] GET /items/special 200 \d+ms EchoFunction", line)
        for line in gateway
    ), gateway
    assert any(re.fullmatch(r"\[gateway\] GET /boom 500 \d+ms \w+Function", x) for x in gateway)
    assert any(re.fullmatch(r"\[gateway\] GET /nowhere 404 \d+ms -", x) for x in gateway)


def test_the_functions_own_output_is_detail_only(gateway_log: Console) -> None:
    summary = "\n".join(lines(gateway_log))
    assert "REPORT RequestId" not in summary
    assert "[ERROR]" not in summary  # the failing function's own log line
    detail = "\n".join(lines(gateway_log.detail))
    assert "REPORT RequestId" in detail
    assert "ValueError" in detail or "[ERROR]" in detail


def test_each_stream_batch_is_one_line() -> None:
    log = Console()
    with LocalStack(FIXTURES / "pump.yaml", stack_name=unique_stack_name("logs"), log=log) as stack:
        for key in ("k1", "k2", "k3"):
            put(stack, "OrderedTable", key, kind="event")
        stack.pump.wait_idle(timeout=15)
    batches = [line for line in lines(log) if "records" in line and line.startswith("[pump]")]
    assert batches, lines(log)
    assert all(
        re.fullmatch(r"\[pump\] \w+ -> \w+: \d+ records \d+ms (ok|failed.*)", b) for b in batches
    )
    assert "REPORT RequestId" not in "\n".join(lines(log))


def test_the_console_shows_detail_only_with_log_level_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (verbose({"LOG_LEVEL": "DEBUG"}), verbose({"LOG_LEVEL": "info"}), verbose({})) == (
        True,
        False,
        False,
    )
    quiet, loud = ConsoleLog(verbose=False), ConsoleLog(verbose=True)
    detail_of(quiet)("a function's own line")
    quiet("[gateway] GET / 200 3ms DocsFunction")
    detail_of(loud)("REPORT RequestId: 1")
    assert capsys.readouterr().out.splitlines() == [
        "[gateway] GET / 200 3ms DocsFunction",
        "REPORT RequestId: 1",
    ]
