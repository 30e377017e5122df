"""One contract for the payment port: the fake, the local adapter, and Stripe (against
responses in Stripe's API shapes, replayed by a recording HTTP client)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from stripe import HTTPClient

from domain.ordering.ports import PaymentGateway
from infra.payments import LocalPayments, StripePayments
from tests.fakes.ordering import FakePayments

RECORDED = Path(__file__).parent / "stripe"
AMOUNT = Decimal("45.50")


class RecordedStripe(HTTPClient):
    """Answers Stripe API calls from recorded bodies, as Stripe would for these test
    methods, and keeps every request (to check amounts and idempotency keys)."""

    name = "recorded"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        form = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        self.requests.append({"url": url, "headers": dict(headers or {}), "form": form})
        if url.endswith("/v1/refunds"):
            return (RECORDED / "refund_succeeded.json").read_text(), 200, {}
        if form.get("payment_method") == "pm_card_chargeDeclined":
            return (RECORDED / "payment_intent_declined.json").read_text(), 402, {}
        return (RECORDED / "payment_intent_succeeded.json").read_text(), 200, {}

    def close(self) -> None:
        pass


@pytest.fixture(params=["fake", "local", "stripe"])
def payments(request: pytest.FixtureRequest) -> PaymentGateway:
    if request.param == "fake":
        return FakePayments()
    if request.param == "local":
        return LocalPayments()
    return StripePayments(lambda: "sk_test_recorded", http_client=RecordedStripe())


def charge(payments: PaymentGateway, method: str, key: str = "charge-o1") -> Any:
    return payments.charge(
        idempotency_key=key, amount=AMOUNT, payment_method=method, description="order o1"
    )


def test_the_visa_test_method_succeeds(payments: PaymentGateway) -> None:
    assert payments.is_supported("pm_card_visa")
    made = charge(payments, "pm_card_visa")
    assert made.succeeded
    assert made.charge_id


def test_the_declined_test_method_is_an_answer_not_an_error(payments: PaymentGateway) -> None:
    made = charge(payments, "pm_card_chargeDeclined")
    assert made.status == "declined"
    assert made.decline_code


def test_the_same_key_answers_the_same_charge(payments: PaymentGateway) -> None:
    assert charge(payments, "pm_card_visa").charge_id == charge(payments, "pm_card_visa").charge_id


def test_a_refund_is_idempotent_too(payments: PaymentGateway) -> None:
    made = charge(payments, "pm_card_visa")
    first = payments.refund(idempotency_key="refund-o1", charge_id=made.charge_id, amount=AMOUNT)
    again = payments.refund(idempotency_key="refund-o1", charge_id=made.charge_id, amount=AMOUNT)
    assert first.refund_id == again.refund_id


def test_non_methods_are_not_supported(payments: PaymentGateway) -> None:
    assert not payments.is_supported("cash")


def test_stripe_is_called_with_cents_and_our_idempotency_keys() -> None:
    http = RecordedStripe()
    stripe = StripePayments(lambda: "sk_test_recorded", http_client=http)
    made = charge(stripe, "pm_card_visa", key="charge-o42")
    assert made.charge_id == "pi_3QrecordedSucceeded01"
    stripe.refund(idempotency_key="refund-o42", charge_id=made.charge_id, amount=AMOUNT)
    intent, refund = http.requests
    assert intent["url"].endswith("/v1/payment_intents")
    assert intent["form"]["amount"] == "4550"
    assert intent["form"]["confirm"] == "true"
    assert intent["headers"]["Idempotency-Key"] == "charge-o42"
    assert refund["form"] == {"payment_intent": "pi_3QrecordedSucceeded01", "amount": "4550"}
    assert refund["headers"]["Idempotency-Key"] == "refund-o42"


def test_a_stripe_decline_names_its_intent_and_code() -> None:
    made = charge(
        StripePayments(lambda: "sk", http_client=RecordedStripe()), "pm_card_chargeDeclined"
    )
    assert (made.charge_id, made.decline_code) == ("pi_3QrecordedDeclined001", "generic_decline")
    assert json.loads((RECORDED / "payment_intent_declined.json").read_text())["error"]["code"]
