"""One contract for the notifier: the fake, and SES through moto (the real API)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from domain.ordering.ports import Notifier
from domain.ordering.values import OrderLine
from tests.fakes.idempotency import InMemoryIdempotentRequests
from tests.fakes.ordering import FakeNotifier
from tests.support.lambda_context import FakeLambdaContext

SENDER = "orders@shop.example.com"
LINES = [OrderLine("p1", "Refactoring", Decimal("45.50"), 2)]


def ses_sent() -> list[Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


@pytest.fixture
def ses() -> Iterator[Notifier]:
    import boto3
    from moto import mock_aws

    from infra.notifications import SesNotifier

    with mock_aws():
        client = boto3.client("sesv2", region_name="us-east-1")
        client.create_email_identity(EmailIdentity=SENDER)
        emails = {"u1": "ada@example.com", "u2": "bob@example.com"}
        yield SesNotifier(
            client,
            SENDER,
            emails.__getitem__,
            InMemoryIdempotentRequests(),
            lambda: FakeLambdaContext(),
        )


@pytest.fixture(params=["fake", "ses"])
def notifier(request: pytest.FixtureRequest) -> Notifier:
    return FakeNotifier() if request.param == "fake" else request.getfixturevalue("ses")


def confirm(notifier: Notifier, key: str, user: str = "u1") -> str:
    return notifier.order_confirmed(
        idempotency_key=key, to_user_id=user, order_id="o1", total=Decimal("91.00"), lines=LINES
    )


def test_a_confirmation_is_sent_once_per_key(notifier: Notifier) -> None:
    first = confirm(notifier, "confirm-o1")
    assert first
    assert confirm(notifier, "confirm-o1") == first
    assert confirm(notifier, "confirm-o2", "u2") != first


def test_ses_mails_the_customer_the_order(ses: Notifier) -> None:
    confirm(ses, "confirm-o1")
    confirm(ses, "confirm-o1")
    (sent,) = ses_sent()
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert "o1" in sent.subject
    assert "2 x Refactoring at 45.50" in sent.body
    assert "Total: 91.00" in sent.body
