"""Emails through Amazon SES (v2): order confirmations, welcomes, reset links.

SES has no idempotency key of its own, so a send runs through the idempotency layer: a
step redone after a crash answers the first message's id instead of mailing twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.identity.ports import Mailer
from domain.ordering.ports import Notifier
from domain.ordering.values import OrderLine
from event_sourcing.events import iso
from infra.idempotency import IdempotentRequests, RemainingTime

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


UNSENT = "unsent:erased"
"""The message id of an email due to a customer erased since: none is sent."""


class SesNotifier(Notifier, Mailer):
    def __init__(
        self,
        client: SESV2Client,
        sender: str,
        email_of: Callable[[str], str],
        once: IdempotentRequests,
        invocation: Callable[[], RemainingTime | None],
    ) -> None:
        self.client = client
        self.sender = sender
        self.email_of = email_of
        self.once = once
        self.invocation = invocation

    def order_confirmed(
        self,
        *,
        idempotency_key: str,
        to_user_id: str,
        order_id: str,
        total: Decimal,
        lines: Sequence[OrderLine],
    ) -> str:
        body = "\n".join(
            [f"Your order {order_id} is confirmed.", ""]
            + [f"{line.quantity} x {line.name} at {line.unit_price}" for line in lines]
            + ["", f"Total: {total}"]
        )
        return self._send(
            "notify",
            idempotency_key,
            {"order_id": order_id},
            lambda: self.email_of(to_user_id),
            f"Order {order_id} confirmed",
            body,
        )

    def order_cancelled(
        self,
        *,
        idempotency_key: str,
        to_user_id: str,
        order_id: str,
        reason: str,
        refunded: Decimal | None,
    ) -> str:
        money = (
            f"Your payment of {refunded} is refunded."
            if refunded is not None
            else "Nothing was charged."
        )
        body = f"Your order {order_id} is cancelled: {reason.replace('_', ' ')}.\n\n{money}"
        return self._send(
            "notify-cancelled",
            idempotency_key,
            {"order_id": order_id},
            lambda: self.email_of(to_user_id),
            f"Order {order_id} cancelled",
            body,
        )

    def welcome(self, *, idempotency_key: str, to: str) -> str:
        body = (
            f"Welcome to the shop. Your account is {to}.\n\nSign in with POST /auth/token to order."
        )
        return self._send("welcome", idempotency_key, {}, lambda: to, "Welcome to the shop", body)

    def password_reset(
        self, *, idempotency_key: str, to: str, link: str, expires_at: datetime
    ) -> str:
        body = (
            "Someone asked to reset the password of this account. To choose a new one, "
            f"open this link before {iso(expires_at)}; it works once:\n\n{link}\n\n"
            "If it was not you, ignore this email: your password stays as it is."
        )
        # What the idempotency layer keeps holds no link: the body it fingerprints is the
        # key alone, and the answer is the message id.
        return self._send("reset", idempotency_key, {}, lambda: to, "Reset your password", body)

    def _send(
        self,
        scope: str,
        idempotency_key: str,
        fingerprinted: dict[str, str],
        to: Callable[[], str],
        subject: str,
        body: str,
    ) -> str:
        def send() -> dict[str, str]:
            address = to()
            if not address:  # an erased customer: no address, nothing to tell anyone
                return {"message_id": UNSENT}
            sent = self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [address]},
                Content={
                    "Simple": {
                        "Subject": {"Data": subject},
                        "Body": {"Text": {"Data": body}},
                    }
                },
            )
            return {"message_id": sent["MessageId"]}

        invocation = self.invocation()
        if invocation is None:
            raise RuntimeError("an email is sent from within a Lambda invocation only")
        # The lock on this send lasts as long as this invocation may: a crashed send is
        # taken over by the stream's retry, not held for the key's lifetime.
        answer = self.once.run(scope, idempotency_key, fingerprinted, send, invocation)
        return str(answer["message_id"])
