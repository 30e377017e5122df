"""Payments and emails run from the outside-calls queue on the local stack, never in the
stream reader: an order placed over HTTP is charged and confirmed by the queue's function,
and a declined card ends cancelled with one email that says why."""

from __future__ import annotations

import time

import pytest

from devstack import iam
from devstack.stack import LocalStack
from tests.e2e.conftest import Client
from tests.e2e.test_order_journey import admin, customer, on_sale, settled, stock

pytestmark = pytest.mark.e2e

__all__ = ["admin"]  # the module's fixture, shared


def mails_about(stack: LocalStack, order_id: str, count: int, timeout: float = 10) -> list[str]:
    """The subjects and bodies of the emails about the order, once `count` have come."""
    assert stack.mailbox is not None
    deadline = time.monotonic() + timeout
    while True:
        found = [f"{m.subject}\n{m.body}" for m in stack.mailbox.messages if order_id in m.subject]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} emails about {order_id}: {found}"
        time.sleep(0.1)


def test_an_order_is_charged_and_confirmed_through_the_queue(
    api: Client, admin: str, stack: LocalStack
) -> None:
    pid = on_sale(api, admin, "Queued Book", "12.00", 3)
    eve = customer(api, "eve-queue")
    oid = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 1}]}, token=eve
    ).json()["id"]
    placed = api.call("POST", f"/orders/{oid}/place", {"payment_method": "pm_card_visa"}, token=eve)
    assert placed.status_code == 202, placed.text
    assert settled(api, eve, oid)["status"] == "confirmed"
    stock(api, admin, pid, on_hand=2, reserved=0)
    (confirmation,) = mails_about(stack, oid, 1)
    assert f"Order {oid} confirmed" in confirmation
    events = api.call("GET", f"/orders/{oid}/history", token=eve).json()["events"]
    assert [e["type"] for e in events][-5:] == [
        "OrderStockReserved",
        "PaymentRequested",
        "PaymentCharged",
        "OrderConfirmed",
        "ConfirmationSent",
    ]
    # who did what: the stream reader sent the due steps, the queue's function mailed
    granted = {(function, action) for function, action, _ in iam.registry.granted}
    assert ("OrderProcessFunction", "sqs:SendMessage") in granted
    assert ("OutsideCallsFunction", "sqs:ReceiveMessage") in granted
    assert ("OutsideCallsFunction", "ses:SendEmail") in granted
    assert ("OrderProcessFunction", "ses:SendEmail") not in granted
    sqs = stack.clients.sqs()
    parked = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url("OutsideCallsDeadLetterQueue"),
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]
    assert parked["ApproximateNumberOfMessages"] == "0"


def test_a_declined_card_is_cancelled_with_one_email_saying_why(
    api: Client, admin: str, stack: LocalStack
) -> None:
    pid = on_sale(api, admin, "Queued Declined Book", "30.00", 2)
    fay = customer(api, "fay-queue")
    oid = api.call(
        "POST", "/orders", {"items": [{"product_id": pid, "quantity": 2}]}, token=fay
    ).json()["id"]
    api.call(
        "POST", f"/orders/{oid}/place", {"payment_method": "pm_card_chargeDeclined"}, token=fay
    )
    final = settled(api, fay, oid)
    assert (final["status"], final["reason"]) == ("cancelled", "payment_declined")
    stock(api, admin, pid, on_hand=2, reserved=0, available=2)
    (told,) = mails_about(stack, oid, 1)
    assert f"Order {oid} cancelled" in told
    assert "payment declined (card declined)" in told
    assert "Nothing was charged." in told
    # and once only: the history records it, nothing more comes
    deadline = time.monotonic() + 10
    while True:
        types = [
            e["type"] for e in api.call("GET", f"/orders/{oid}/history", token=fay).json()["events"]
        ]
        if types[-1] == "CancellationSent":
            break
        assert time.monotonic() < deadline, types
        time.sleep(0.1)
    stack.pump.wait_idle(timeout=15)
    assert len(mails_about(stack, oid, 1)) == 1
