"""Where the stack's own lines and the functions' output go."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

LogSink = Callable[[str], None]


class ConsoleLog:
    """Writes whole lines to stdout; safe to call from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()


def discard(line: str) -> None:
    """A sink that drops everything."""
