"""The README's walk through the shop runs as written (bash and curl, against the local
stack: its URL and admin credentials put in place of the defaults it names, and its
category, product and customer given unique names, since the stack is the session's)."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def walk() -> str:
    text = README.read_text("utf-8")
    section = text[text.index("## Walk the shop") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the README's walk has a sh block"
    return match.group(1)


def unique_data(script: str, names: dict[str, str]) -> str:
    """The walk with its category, product and customer named uniquely: the session's stack
    is shared, and other modules' data may already hold the README's names."""
    for name, unique in names.items():
        assert name in script, f"the README's walk no longer names {name}"
        script = script.replace(name, unique)
    return script


def test_the_readmes_walk_through_the_shop_runs_and_confirms_the_order(
    stack: LocalStack,
) -> None:
    assert shutil.which("curl"), "the README's walk uses curl"
    unique = uuid.uuid4().hex[:8]
    script = unique_data(
        walk()
        .replace("http://127.0.0.1:3000", stack.url)
        .replace("admin@example.com", ADMIN_EMAIL)
        .replace("local-admin-password", ADMIN_PASSWORD),
        {
            '"Books"': f'"Books {unique}"',
            '\\"Refactoring\\"': f'\\"Refactoring {unique}\\"',
            "ada@example.com": f"ada-{unique}@example.com",
        },
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
    assert '"reviews"' in done.stdout  # ada's export
    assert "204" in lines  # her erasure
