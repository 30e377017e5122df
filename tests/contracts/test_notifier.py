"""One contract for the notifier and the mailer: the fakes, and SES through moto (the real
API)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.identity.ports import Mailer
from domain.ordering.ports import Notifier
from domain.ordering.values import OrderLine
from infra.notifications import UNSENT, SesNotifier
from tests.fakes.idempotency import InMemoryIdempotentRequests
from tests.fakes.identity import FakeMailer
from tests.fakes.ordering import FakeNotifier
from tests.support.lambda_context import FakeLambdaContext
from tests.support.mail import ses_sent

SENDER = "orders@shop.example.com"
LINES = [OrderLine("p1", "Refactoring", Decimal("45.50"), 2)]


@pytest.fixture
def ses() -> Iterator[SesNotifier]:
    import boto3

    from tests.support.aws import mock_aws

    with mock_aws():
        client = boto3.client("sesv2", region_name="us-east-1")
        client.create_email_identity(EmailIdentity=SENDER)
        emails = {"u1": "ada@example.com", "u2": "bob@example.com", "erased": ""}
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


def cancel(notifier: Notifier, key: str, refunded: Decimal | None = None) -> str:
    return notifier.order_cancelled(
        idempotency_key=key,
        to_user_id="u1",
        order_id="o1",
        reason="payment_declined (card_declined)",
        refunded=refunded,
    )


def test_a_cancellation_is_sent_once_per_key_apart_from_the_confirmation(
    notifier: Notifier,
) -> None:
    confirmed = confirm(notifier, "confirm-o1")
    first = cancel(notifier, "cancelled-o1")
    assert first
    assert first != confirmed
    assert cancel(notifier, "cancelled-o1") == first


def test_ses_tells_the_customer_why_and_what_was_refunded(ses: Notifier) -> None:
    cancel(ses, "cancelled-o1", Decimal("91.00"))
    cancel(ses, "cancelled-o1", Decimal("91.00"))
    cancel(ses, "cancelled-o2")
    refunded, declined = ses_sent()
    assert refunded.destinations["ToAddresses"] == ["ada@example.com"]
    assert refunded.subject == "Order o1 cancelled"
    assert "payment declined (card declined)" in refunded.body
    assert "Your payment of 91.00 is refunded." in refunded.body
    assert "Nothing was charged." in declined.body


def test_ses_mails_nothing_to_a_customer_erased_since(ses: Notifier) -> None:
    sent = confirm(ses, "confirm-o1", user="erased")
    assert sent == UNSENT
    assert confirm(ses, "confirm-o1", user="erased") == UNSENT
    assert ses_sent() == []


@pytest.fixture(params=["fake", "ses"])
def mailer(request: pytest.FixtureRequest) -> Mailer:
    return FakeMailer() if request.param == "fake" else request.getfixturevalue("ses")


EXPIRES = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
LINK = "https://api.example.com/reset-password?token=u1.secret"


def test_a_welcome_and_a_reset_link_are_sent_once_per_key(mailer: Mailer) -> None:
    welcome = mailer.welcome(idempotency_key="welcome-u1", to="ada@example.com")
    assert mailer.welcome(idempotency_key="welcome-u1", to="ada@example.com") == welcome

    def reset() -> str:
        return mailer.password_reset(
            idempotency_key="reset-r1", to="ada@example.com", link=LINK, expires_at=EXPIRES
        )

    first = reset()
    assert first != welcome
    assert reset() == first


def test_ses_mails_the_welcome_and_the_link(ses: SesNotifier) -> None:
    ses.welcome(idempotency_key="welcome-u1", to="ada@example.com")
    ses.password_reset(
        idempotency_key="reset-r1", to="ada@example.com", link=LINK, expires_at=EXPIRES
    )
    ses.password_reset(
        idempotency_key="reset-r1", to="ada@example.com", link=LINK, expires_at=EXPIRES
    )
    welcome, reset = ses_sent()
    assert welcome.destinations["ToAddresses"] == ["ada@example.com"]
    assert "Welcome" in welcome.subject
    assert reset.subject == "Reset your password"
    assert LINK in reset.body
    assert "2026-01-01T12:30:00.000Z" in reset.body


def test_what_ses_keeps_to_send_once_holds_no_link(ses: SesNotifier) -> None:
    ses.password_reset(
        idempotency_key="reset-r1", to="ada@example.com", link=LINK, expires_at=EXPIRES
    )
    kept = ses.once
    assert isinstance(kept, InMemoryIdempotentRequests)
    assert "secret" not in repr(kept.__dict__)
