"""The OpenAPI document is what the API answers: schemathesis, against the local stack, finds
no status the document does not name, no body that does not match its schema, and no 5xx.

A bounded run keeps `make test` short (SCHEMATHESIS_MAX_EXAMPLES, default 4 per operation;
SCHEMATHESIS_PHASES, default examples, fuzzing and stateful links; the coverage phase adds
about 1,100 cases and 90 s); docs/architecture.md says how to run a longer one against
`make run`. schemathesis.toml (read from the repository root) holds what the checks expect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def schemathesis(url: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4")
    phases = os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing,stateful")
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{url}/openapi.json",
            "--url",
            url,
            "--checks",
            CHECKS,
            "--max-examples",
            examples,
            "--phases",
            phases,
            "--seed",
            "20261202",
            "--header",
            f"Authorization: Bearer {token}",
            "--report",
            "junit",
            "--report-dir",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"},
    )


def test_schemathesis_finds_no_difference_between_the_document_and_the_api(
    stack: LocalStack, api: Client, tmp_path: Path
) -> None:
    admin = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    run = schemathesis(stack.url, admin, tmp_path)
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
