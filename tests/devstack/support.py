"""Helpers shared by the devstack tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]


def unique_stack_name(prefix: str) -> str:
    """Stacks in one process share moto's state: a fresh name keeps tests apart."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class LogLines:
    """A log sink that keeps the lines, for assertions."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)

    def containing(self, text: str) -> list[str]:
        with self._lock:
            return [line for line in self._lines if text in line]


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
