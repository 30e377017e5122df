"""Where the stack's own lines and the functions' output go.

Two kinds of lines: the summary (one per request, one per stream or queue batch, the
stack's own notices) and the detail (the functions' own output: their logs, EMF metrics,
Lambda's REPORT lines, library warnings). A sink shows the detail only if it says so:
`detail_of(sink)`. `make run` shows the summary; `LOG_LEVEL=DEBUG` shows both."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

LogSink = Callable[[str], None]


def verbose(env: Mapping[str, str] | None = None) -> bool:
    """Whether LOG_LEVEL asks for everything (DEBUG)."""
    return (env if env is not None else os.environ).get("LOG_LEVEL", "").upper() == "DEBUG"


class ConsoleLog:
    """Writes whole lines to stdout; safe to call from many threads. The functions' own
    output only when `verbose` (default: LOG_LEVEL=DEBUG)."""

    def __init__(self, *, verbose: bool | None = None) -> None:
        self._lock = threading.Lock()
        self.verbose = globals()["verbose"]() if verbose is None else verbose

    def __call__(self, line: str) -> None:
        with self._lock:
            print(line, flush=True)

    def detail(self, line: str) -> None:
        if self.verbose:
            self(line)


def detail_of(log: LogSink) -> LogSink:
    """Where `log` wants the detail: its own `detail` if it has one, else `log` itself."""
    detail = getattr(log, "detail", None)
    return detail if callable(detail) else log


def discard(line: str) -> None:
    """A sink that drops everything."""
