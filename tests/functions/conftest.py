"""Functions under test against moto: real Powertools, real DynamoDB API, real handlers."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from devstack import iam
from infra import container as composition
from tests.support.http_api import HttpApi
from tests.support.lambda_context import FakeLambdaContext
from tests.support.roles import PARAMETERS, physical_resources, principals
from tests.support.streams import StreamTail, admitted, batch, sequence_number
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
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    projected: set[str] = field(default_factory=set)
    processed: set[str] = field(default_factory=set)
    outside_calls: list[dict[str, Any]] = field(default_factory=list)
    """Every answer of the outside-calls function, in order."""
    _tail: StreamTail | None = None
    _records: list[dict[str, Any]] = field(default_factory=list)
    _admitted: dict[str, tuple[int, list[dict[str, Any]]]] = field(default_factory=dict)

    def stream_records(self, function: str = "ProjectorFunction") -> list[dict[str, Any]]:
        """Every record of the event table's stream so far that `function`'s mapping lets
        through, each read from moto and filtered once."""
        table = self.tables["EventsTable"]
        if self._tail is None or self._tail.table != table:
            self._tail, self._records, self._admitted = StreamTail(self.client, table), [], {}
        self._records += self._tail.new_records()
        seen, records = self._admitted.get(function, (0, []))
        records = records + admitted(self._records[seen:], function)
        self._admitted[function] = (len(self._records), records)
        return list(records)

    def acting_as(self, function: str) -> AbstractContextManager[None]:
        """Every AWS call made meanwhile is checked against `function`'s role (template.yaml
        through SAM's translator), as IAM would on AWS."""
        return iam.acting_as(self.principals[function])

    def use_table(self, logical_id: str, name: str) -> None:
        """Run the functions on table `name` as the template's `logical_id` (their roles
        follow, as a redeploy with that table would grant)."""
        self.tables[logical_id] = name
        physical = physical_resources(self.client, self.tables, self.secrets, self.keys)
        self.principals = principals(physical)

    def project(self) -> dict[str, Any]:
        """Deliver the stream records not delivered yet to the projector, in one batch."""
        from functions.projectors.app import handler

        fresh = [r for r in self.stream_records() if sequence_number(r) not in self.projected]
        self.projected |= {sequence_number(r) for r in fresh}
        if not fresh:
            return {"batchItemFailures": []}
        with self.acting_as("ProjectorFunction"):
            result: dict[str, Any] = handler(batch(fresh), FakeLambdaContext())
        return result

    def run_process(self, rounds: int | None = None) -> list[str]:
        """Drive placed orders as deployed: project the new stream records, deliver the
        order-stream records the order process has not seen yet to its handler (one
        batch), run the outside-calls queue's messages through their function (as the
        queue's mapping would), and repeat until no new order record appears (or `rounds`
        batches were delivered). Answers the order process's failed sequence numbers; the
        views are projected when it returns."""
        from functions.processes.orders import handler as process
        from functions.projectors.app import handler as projector

        failures: list[str] = []
        delivered = 0
        while True:
            records = self.stream_records()
            unprojected = [r for r in records if sequence_number(r) not in self.projected]
            if unprojected:
                self.projected |= {sequence_number(r) for r in unprojected}
                with self.acting_as("ProjectorFunction"):
                    projector(batch(unprojected), FakeLambdaContext())
            for_process = self.stream_records("OrderProcessFunction")
            fresh = [r for r in for_process if sequence_number(r) not in self.processed]
            called = self.call_outside() if rounds is None or delivered < rounds else 0
            if not called and (not fresh or (rounds is not None and delivered >= rounds)):
                return failures
            if not fresh:
                continue
            self.processed |= {sequence_number(r) for r in fresh}
            with self.acting_as("OrderProcessFunction"):
                result = process(batch(fresh), FakeLambdaContext())
            failures += [f["itemIdentifier"] for f in result["batchItemFailures"]]
            delivered += 1

    def call_outside(self) -> int:
        """Hand the outside-calls queue's waiting messages to its function (one batch of up
        to 10, as the mapping does) and delete those it did not report failed; answers how
        many messages it was handed."""
        import boto3

        from functions.processes.calls import handler as calls

        sqs = boto3.client("sqs", region_name="us-east-1")
        url = os.environ["OUTSIDE_CALLS_QUEUE_URL"]
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return 0
        with self.acting_as("OutsideCallsFunction"):
            answer: dict[str, Any] = calls(sqs_batch(messages, url), FakeLambdaContext())
        self.outside_calls.append(answer)
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def admin_token(self) -> str:
        from domain.access import CommandContext
        from domain.identity.service import ensure_admin

        root = composition.container()
        ensure_admin(
            root.repository,
            root.hasher,
            root.pseudonyms,
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
            CommandContext("t", "t"),
        )
        answer = self.api.request(
            "POST", "/auth/token", json_body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert answer.status == 200, answer.text
        return str(answer.json["access_token"])


def sqs_batch(messages: Sequence[Mapping[str, Any]], queue_url: str) -> dict[str, Any]:
    """The event Lambda's SQS poller sends for `messages` of the queue at `queue_url`."""
    name = queue_url.rsplit("/", 1)[-1]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{name}",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


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

    from tests.support.aws import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        tables = create_tables(client)
        secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
        secret = secretsmanager.create_secret(Name="signing-key", SecretString="s" * 64)
        fingerprints = secretsmanager.create_secret(Name="idempotency-key", SecretString="k" * 64)
        resets = secretsmanager.create_secret(Name="reset-key", SecretString="r" * 64)
        pseudonyms = secretsmanager.create_secret(Name="pseudonym-key", SecretString="p" * 64)
        data_key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]
        # named as tests/support/roles.py names the template's queues, so its ARN is the one
        # the roles grant
        outside_calls = boto3.client("sqs", region_name="us-east-1").create_queue(
            QueueName="test-OutsideCallsQueue"
        )["QueueUrl"]
        settings = {
            "OUTSIDE_CALLS_QUEUE_URL": outside_calls,
            "EVENTS_TABLE": tables["EventsTable"],
            "VIEWS_TABLE": tables["ViewsTable"],
            "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
            "THROTTLE_TABLE": tables["ThrottleTable"],
            "SIGNING_KEY_SECRET": secret["ARN"],
            "IDEMPOTENCY_KEY_SECRET": fingerprints["ARN"],
            "RESET_KEY_SECRET": resets["ARN"],
            "PSEUDONYM_KEY_SECRET": pseudonyms["ARN"],
            "KEYS_TABLE": tables["KeysTable"],
            "ERASURE_LOG_TABLE": tables["ErasureLogTable"],
            "DATA_KEY_ID": data_key["KeyId"],
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
        composition.use(None)

        iam.install()
        secrets = {
            "SigningKeySecret": secret["ARN"],
            "IdempotencyKeySecret": fingerprints["ARN"],
            "ResetKeySecret": resets["ARN"],
            "PseudonymKeySecret": pseudonyms["ARN"],
        }
        keys = {"DataKey": {"Ref": data_key["KeyId"], "Arn": data_key["Arn"]}}
        physical = physical_resources(client, tables, secrets, keys)
        stack = Stack(
            client,
            tables,
            template_api(),
            principals=principals(physical, template=translated),
            secrets=secrets,
            keys=keys,
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
