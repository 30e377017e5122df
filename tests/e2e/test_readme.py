"""The README's walk through the shop runs as written (bash and curl, against the local
stack: its URL and admin credentials put in place of the defaults it names)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, local_stack

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack("readme") as running:
        yield running


def walk() -> str:
    text = README.read_text("utf-8")
    section = text[text.index("## Walk the shop") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the README's walk has a sh block"
    return match.group(1)


def test_the_readmes_walk_through_the_shop_runs_and_confirms_the_order(
    stack: LocalStack,
) -> None:
    assert shutil.which("curl"), "the README's walk uses curl"
    script = (
        walk()
        .replace("http://127.0.0.1:3000", stack.url)
        .replace("admin@example.com", ADMIN_EMAIL)
        .replace("local-admin-password", ADMIN_PASSWORD)
    )
    done = subprocess.run(
        ["/bin/bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    lines = done.stdout.splitlines()
    assert "confirmed" in lines, done.stdout
    assert '"available": 8' in done.stdout or '"available":8' in done.stdout
    assert "correlation_id" in done.stdout  # the admin's history shows metadata
