"""The admin bootstrap named by `Metadata.LocalStack.AdminBootstrap`, run once the stack is up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.logs import LogSink
from devstack.template import Template, TemplateError

DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "local-admin-password"
TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class AdminBootstrap:
    """`python -m <module> <arguments>` with the environment of `function`."""

    function: str
    module: str
    arguments: tuple[str, ...] = ()

    @classmethod
    def from_template(cls, template: Template) -> AdminBootstrap | None:
        config = template.local_metadata().get("AdminBootstrap")
        if config is None:
            return None
        try:
            return cls(
                function=str(config["Function"]),
                module=str(config["Module"]),
                arguments=tuple(str(argument) for argument in config.get("Arguments") or []),
            )
        except (KeyError, TypeError, AttributeError):
            raise TemplateError(
                "Metadata.LocalStack.AdminBootstrap needs Function, Module (and Arguments)"
            ) from None

    def run(
        self,
        function_env: Mapping[str, str],
        *,
        email: str,
        password: str,
        cwd: Path,
        log: LogSink,
        python: str = sys.executable,
    ) -> bool:
        """Run it; False (after a warning) when it fails, which does not stop the stack."""
        command = [python, "-m", self.module, *self.arguments]
        env = {**function_env, "ADMIN_EMAIL": email, "ADMIN_PASSWORD": password}
        try:
            completed = subprocess.run(  # noqa: S603 - our interpreter, the template's module
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log(f"WARNING: admin bootstrap {' '.join(command[1:])} timed out; no admin created")
            return False
        for line in completed.stdout.decode(errors="replace").splitlines():
            log(f"[bootstrap] {line}")
        if completed.returncode != 0:
            log(
                f"WARNING: admin bootstrap `python -m {self.module} {' '.join(self.arguments)}` "
                f"failed (exit {completed.returncode}); the admin was not created"
            )
            return False
        return True


def admin_credentials(env: Mapping[str, str]) -> tuple[str, str]:
    """The local admin's email and password (`LOCAL_ADMIN_EMAIL`/`LOCAL_ADMIN_PASSWORD`)."""
    return (
        env.get("LOCAL_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL,
        env.get("LOCAL_ADMIN_PASSWORD") or DEFAULT_ADMIN_PASSWORD,
    )
