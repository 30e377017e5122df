"""Order confirmations by email through Amazon SES (v2).

SES has no idempotency key of its own, so a send runs through the idempotency layer: a
step redone after a crash answers the first message's id instead of mailing twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.ordering.ports import Notifier
from domain.ordering.values import OrderLine
from infra.idempotency import IdempotentRequests, RemainingTime

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


class SesNotifier(Notifier):
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
        def send() -> dict[str, str]:
            body = "\n".join(
                [f"Your order {order_id} is confirmed.", ""]
                + [f"{line.quantity} x {line.name} at {line.unit_price}" for line in lines]
                + ["", f"Total: {total}"]
            )
            sent = self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [self.email_of(to_user_id)]},
                Content={
                    "Simple": {
                        "Subject": {"Data": f"Order {order_id} confirmed"},
                        "Body": {"Text": {"Data": body}},
                    }
                },
            )
            return {"message_id": sent["MessageId"]}

        invocation = self.invocation()
        if invocation is None:
            raise RuntimeError("a notification is sent from within a Lambda invocation only")
        # The lock on this send lasts as long as this invocation may: a crashed send is
        # taken over by the stream's retry, not held for the key's lifetime.
        answer = self.once.run("notify", idempotency_key, {"order_id": order_id}, send, invocation)
        return str(answer["message_id"])
