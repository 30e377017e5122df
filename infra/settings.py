"""The composition root's first job: settings from the environment, and secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from infra.idempotency import RemainingTime


class MissingSetting(RuntimeError):
    pass


class Settings:
    """What the function's template environment says, and the secrets it names."""

    Env = Mapping[str, str] | None

    def __init__(self, env: Env = None) -> None:
        self.env = os.environ if env is None else env
        # The Lambda context of the invocation being served (set by the entry point): what
        # adapters that lock something for the invocation's lifetime measure it by.
        self.invocation: RemainingTime | None = None

    def setting(self, name: str, default: str | None = None) -> str:
        value = self.env.get(name, default)
        if value is None:
            raise MissingSetting(
                f"{name} is not set: run the function through the local stack (make run), "
                "or set it as template.yaml does."
            )
        return value

    @cached_property
    def _secrets(self) -> SecretsProvider:
        # On boto3's default session: Powertools' own provider opens a session of its own,
        # which loads botocore's endpoint and service models again (tens of ms a cold start).
        import boto3
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=boto3.client("secretsmanager"))

    def _secret(self, setting: str, *, minimum_length: int = 1) -> str:
        # Cached by Powertools for 5 minutes, so a rotated secret is picked up without a deploy.
        secret = self._secrets.get(self.setting(setting), max_age=300)
        if not isinstance(secret, str) or len(secret) < minimum_length:
            raise MissingSetting(
                f"the secret named by {setting} must be a string of {minimum_length}+ characters"
            )
        return secret
