"""`python -m devstack`: starts in the foreground, prints where things are, stops on SIGTERM."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

import pytest
import requests

from devstack.__main__ import parse_args
from tests.devstack.support import FIXTURES, REPO_ROOT, unique_stack_name


def test_runs_until_sigterm() -> None:
    command = [
        sys.executable,
        "-m",
        "devstack",
        "--template",
        str(FIXTURES / "gateway.yaml"),
        "--port",
        "0",
        "--stack-name",
        unique_stack_name("cli"),
        "--parameter-overrides",
        "Greeting=howdy",
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Ctrl-C"):
                break
        url = next(line.split()[1] for line in printed if line.strip().startswith("API:"))
        docs = next(line.split()[1] for line in printed if line.strip().startswith("Docs:"))
        admin = next(line for line in printed if line.strip().startswith("Admin:"))
        assert docs == f"{url}/docs"
        assert "admin@example.com / local-admin-password" in admin
        answer = requests.get(f"{url}/public", timeout=10).json()
        assert answer["env"]["GREETING"] == "howdy"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        process.wait()


def test_the_cli_reads_port_stack_name_and_parameter_overrides() -> None:
    args = parse_args(["--port", "0", "--stack-name", "x", "--parameter-overrides", "A=1", "B=2"])
    assert args.port == 0
    assert args.stack_name == "x"
    assert args.parameter_overrides == ["A=1", "B=2"]


def test_bad_override_is_reported() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "devstack", "--port", "0", "--parameter-overrides", "Nope=1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "undeclared" in completed.stdout


@pytest.mark.parametrize("pair", ["novalue", "=x"])
def test_a_parameter_override_without_key_equals_value_is_refused(pair: str) -> None:
    from devstack.__main__ import _overrides

    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        _overrides([pair])
