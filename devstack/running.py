"""Where a running local stack can be found by another process of the same checkout."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class RunningStack:
    """A `make run` of this checkout: its name, AWS endpoint, API URL and process."""

    stack_name: str
    endpoint_url: str
    api_url: str
    pid: int
    outputs: dict[str, str] = field(default_factory=dict)
    """The template's Outputs, resolved (infra/cli.py reads them for `--local`)."""
    environment: dict[str, str] = field(default_factory=dict)
    """The stack's own AWS settings: endpoint, region, credentials (never real AWS)."""
    functions: dict[str, dict[str, str]] = field(default_factory=dict)
    """The stream readers' environments (`eventshop-admin --local redrive` runs their code)."""

    @staticmethod
    def _path(directory: Path, stack_name: str) -> Path:
        return directory / ".devstack" / f"{stack_name}.json"

    def save(self, directory: Path) -> None:
        path = self._path(directory, self.stack_name)
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def forget(cls, directory: Path, stack_name: str, pid: int | None = None) -> None:
        """Remove the record; with `pid`, only if that process wrote it."""
        path = cls._path(directory, stack_name)
        with contextlib.suppress(FileNotFoundError, ValueError, TypeError, KeyError):
            if pid is None or json.loads(path.read_text("utf-8"))["pid"] == pid:
                path.unlink()

    @classmethod
    def find(cls, directory: Path, stack_name: str) -> RunningStack | None:
        """The stack, if its process is still alive (a stale file is removed)."""
        try:
            found = cls(**json.loads(cls._path(directory, stack_name).read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        try:
            os.kill(found.pid, 0)
        except ProcessLookupError:
            cls.forget(directory, stack_name)
            return None
        except PermissionError:
            pass
        return found


def is_local(endpoint_url: str) -> bool:
    """Whether an endpoint is on this machine (loopback), so never real AWS."""
    host = urlparse(endpoint_url).hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")
