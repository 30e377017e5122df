"""Functions under test against moto: real Powertools, real DynamoDB API, real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from devstack import iam
from infra import container as composition
from tests.support.http_api import HttpApi
from tests.support.lambda_context import FakeLambdaContext
from tests.support.roles import PARAMETERS, physical_resources, principals
from tests.support.streams import batch, sequence_number, stream_records
from tests.support.tables import create_tables
from tests.support.template import model as template_model

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "admin password 1"
NOTIFY_FROM = PARAMETERS["NotificationSender"]
"""The sender of order confirmations: an SES identity verified in moto."""
PUBLIC_API_URL = "https://api.shop.example.com"
"""Where reset links point (the HTTP API's endpoint when deployed)."""


@dataclass
class Stack:
    client: DynamoDBClient
    tables: dict[str, str]
    api: HttpApi
    principals: dict[str, iam.Principal] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    projected: set[str] = field(default_factory=set)
    processed: set[str] = field(default_factory=set)

    def acting_as(self, function: str) -> AbstractContextManager[None]:
        """Every AWS call made meanwhile is checked against `function`'s role (template.yaml
        through SAM's translator), as IAM would on AWS."""
        return iam.acting_as(self.principals[function])

    def use_table(self, logical_id: str, name: str) -> None:
        """Run the functions on table `name` as the template's `logical_id` (their roles
        follow, as a redeploy with that table would grant)."""
        self.tables[logical_id] = name
        self.principals = principals(physical_resources(self.client, self.tables, self.secrets))

    def project(self) -> dict[str, Any]:
        """Deliver the stream records not delivered yet to the projector, in one batch."""
        from functions.projectors.app import handler

        fresh = [
            r
            for r in stream_records(self.client, self.tables["EventsTable"])
            if sequence_number(r) not in self.projected
        ]
        self.projected |= {sequence_number(r) for r in fresh}
        if not fresh:
            return {"batchItemFailures": []}
        with self.acting_as("ProjectorFunction"):
            result: dict[str, Any] = handler(batch(fresh), FakeLambdaContext())
        return result

    def run_process(self, rounds: int | None = None) -> list[str]:
        """Drive placed orders as deployed: project the new stream records, deliver the
        order-stream records the order process has not seen yet to its handler (one
        batch), and repeat until no new order record appears (or `rounds` batches were
        delivered). Answers the order process's failed sequence numbers; the views are
        projected when it returns."""
        from functions.processes.orders import handler as process
        from functions.projectors.app import handler as projector

        failures: list[str] = []
        delivered = 0
        while True:
            records = stream_records(self.client, self.tables["EventsTable"])
            unprojected = [r for r in records if sequence_number(r) not in self.projected]
            if unprojected:
                self.projected |= {sequence_number(r) for r in unprojected}
                with self.acting_as("ProjectorFunction"):
                    projector(batch(unprojected), FakeLambdaContext())
            for_process = stream_records(
                self.client, self.tables["EventsTable"], "OrderProcessFunction"
            )
            fresh = [r for r in for_process if sequence_number(r) not in self.processed]
            if not fresh or (rounds is not None and delivered >= rounds):
                return failures
            self.processed |= {sequence_number(r) for r in fresh}
            with self.acting_as("OrderProcessFunction"):
                result = process(batch(fresh), FakeLambdaContext())
            failures += [f["itemIdentifier"] for f in result["batchItemFailures"]]
            delivered += 1

    def admin_token(self) -> str:
        from domain.access import CommandContext

        composition.container().identity.ensure_admin(
            ADMIN_EMAIL, ADMIN_PASSWORD, CommandContext("t", "t")
        )
        answer = self.api.request(
            "POST", "/auth/token", json_body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert answer.status == 200, answer.text
        return str(answer.json["access_token"])


def template_api() -> HttpApi:
    """The HTTP API as the local stack reads template.yaml: its routes, its authorizer, each
    route's function's handler."""
    import importlib

    model = template_model()
    handlers = {}
    for lid, spec in model.functions.items():
        module, attribute = spec.handler.rsplit(".", 1)
        handlers[lid] = getattr(importlib.import_module(module), attribute)
    (api,) = model.apis.values()
    return HttpApi(handlers=handlers, routes=model.routes, api=api)


@contextmanager
def open_stack(monkeypatch: pytest.MonkeyPatch, translated: Any = None) -> Iterator[Stack]:
    """The stack on moto, for as long as the context lasts (a fixture of any scope); every
    function runs under its role from `translated` (default: template.yaml, translated)."""
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        tables = create_tables(client)
        secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
        secret = secretsmanager.create_secret(Name="signing-key", SecretString="s" * 64)
        fingerprints = secretsmanager.create_secret(Name="idempotency-key", SecretString="k" * 64)
        resets = secretsmanager.create_secret(Name="reset-key", SecretString="r" * 64)
        settings = {
            "EVENTS_TABLE": tables["EventsTable"],
            "VIEWS_TABLE": tables["ViewsTable"],
            "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
            "THROTTLE_TABLE": tables["ThrottleTable"],
            "SIGNING_KEY_SECRET": secret["ARN"],
            "IDEMPOTENCY_KEY_SECRET": fingerprints["ARN"],
            "RESET_KEY_SECRET": resets["ARN"],
            "BCRYPT_ROUNDS": "4",
            "PUBLIC_DOCS": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "test",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "test",
            "PAYMENT_PROVIDER": "local",
            "NOTIFY_FROM": NOTIFY_FROM,
            "PUBLIC_API_URL": PUBLIC_API_URL,
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=NOTIFY_FROM)
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        composition.use(None)

        iam.install()
        secrets = {
            "SigningKeySecret": secret["ARN"],
            "IdempotencyKeySecret": fingerprints["ARN"],
            "ResetKeySecret": resets["ARN"],
        }
        physical = physical_resources(client, tables, secrets)
        stack = Stack(
            client,
            tables,
            template_api(),
            principals=principals(physical, template=translated),
            secrets=secrets,
        )
        stack.api.acting_as = stack.acting_as
        try:
            yield stack
        finally:
            composition.use(None)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with open_stack(monkeypatch) as opened:
        yield opened
