"""Payment adapters: a local one that behaves like Stripe's test payment methods, and
Stripe itself. Both are idempotent per key: the same key answers the same charge."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.ordering.ports import Charge, PaymentGateway, Refund

if TYPE_CHECKING:
    from stripe import HTTPClient, StripeClient

TEST_SUCCEEDS = "pm_card_visa"
TEST_DECLINES = "pm_card_chargeDeclined"


def _id(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class LocalPayments(PaymentGateway):
    """Stripe's test methods without Stripe: `pm_card_visa` succeeds,
    `pm_card_chargeDeclined` is declined, anything else is not a payment method here.

    Ids are derived from the idempotency key, so a retry (in any process) answers the
    same charge with no state to share."""

    def is_supported(self, payment_method: str) -> bool:
        return payment_method in (TEST_SUCCEEDS, TEST_DECLINES)

    def charge(
        self, *, idempotency_key: str, amount: Decimal, payment_method: str, description: str
    ) -> Charge:
        if not self.is_supported(payment_method):
            raise ValueError(f"unsupported payment method {payment_method!r}")
        if payment_method == TEST_DECLINES:
            return Charge(_id("pi", idempotency_key), "declined", "card_declined")
        return Charge(_id("pi", idempotency_key), "succeeded")

    def refund(self, *, idempotency_key: str, charge_id: str, amount: Decimal) -> Refund:
        return Refund(_id("re", idempotency_key))


class StripePayments(PaymentGateway):
    """PaymentIntents confirmed at once with a saved payment method; Stripe's own
    idempotency keys make a retried call answer the first answer."""

    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        currency: str = "eur",
        http_client: HTTPClient | None = None,
    ) -> None:
        self._api_key = api_key
        self.currency = currency
        self._http_client = http_client
        self._client: StripeClient | None = None

    @property
    def client(self) -> StripeClient:
        if self._client is None:
            from stripe import StripeClient

            self._client = StripeClient(
                self._api_key(), http_client=self._http_client, max_network_retries=2
            )
        return self._client

    def is_supported(self, payment_method: str) -> bool:
        return payment_method.startswith("pm_")

    def charge(
        self, *, idempotency_key: str, amount: Decimal, payment_method: str, description: str
    ) -> Charge:
        import stripe

        params: Any = {
            "amount": _cents(amount),
            "currency": self.currency,
            "payment_method": payment_method,
            "confirm": True,
            "description": description,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as declined:
            body: Any = declined.json_body if isinstance(declined.json_body, dict) else {}
            error = body.get("error", {})
            intent_id = (error.get("payment_intent") or {}).get("id")
            code = error.get("decline_code") or declined.code or "card_declined"
            return Charge(intent_id or _id("declined", idempotency_key), "declined", code)
        if intent.status == "succeeded":
            return Charge(intent.id, "succeeded")
        return Charge(intent.id, "declined", intent.status)

    def refund(self, *, idempotency_key: str, charge_id: str, amount: Decimal) -> Refund:
        params: Any = {"payment_intent": charge_id, "amount": _cents(amount)}
        refund = self.client.v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
        return Refund(refund.id)


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())
