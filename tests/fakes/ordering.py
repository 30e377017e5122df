"""In-memory fakes of ordering's ports. They subclass the ports, keep state, and behave as
the real providers do where it matters: the same idempotency key answers the first
answer without a second effect, and each can be told to fail once, before or after its
effect, to play a crash (a timeout after the provider did the work, say)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from domain.ordering.ports import (
    Charge,
    Notifier,
    PaymentGateway,
    ProductCatalog,
    ProductInfo,
    Refund,
)
from domain.ordering.values import OrderLine, money

SUCCEEDING_METHOD = "pm_card_visa"
"""Stripe's test payment method whose charges succeed."""
DECLINED_METHOD = "pm_card_chargeDeclined"
"""Stripe's test payment method whose charges are declined (`card_declined`)."""

PaymentOperation = Literal["charge", "refund"]


class InjectedFailure(Exception):
    """A failure a test asked for (`fail_next`): the call may or may not have had its
    effect, as with a timeout."""


class IdempotencyKeyReused(ValueError):
    """The same key with other parameters: a bug in the caller, as Stripe says too."""


class _Faults:
    """Failures to inject, per operation, in the order they were asked for."""

    def __init__(self) -> None:
        self._pending: dict[str, list[bool]] = {}

    def add(self, operation: str, after_effect: bool) -> None:
        self._pending.setdefault(operation, []).append(after_effect)

    def take(self, operation: str) -> bool | None:
        """None: no failure; False: fail before the effect; True: after it."""
        queue = self._pending.get(operation)
        return queue.pop(0) if queue else None

    def pending(self) -> int:
        return sum(len(q) for q in self._pending.values())


def _fail(operation: str, after_effect: bool) -> InjectedFailure:
    when = "after" if after_effect else "before"
    return InjectedFailure(f"injected failure of {operation} {when} its effect")


class FakeCatalog(ProductCatalog):
    """A dict of products you fill (`add`, or `catalogue[...] = ...`)."""

    def __init__(self) -> None:
        self.catalogue: dict[str, ProductInfo] = {}

    def add(
        self, product_id: str, name: str, unit_price: str | Decimal, *, is_active: bool = True
    ) -> ProductInfo:
        info = ProductInfo(product_id, name, money(Decimal(unit_price)), is_active)
        self.catalogue[product_id] = info
        return info

    def deactivate(self, product_id: str) -> None:
        info = self.catalogue[product_id]
        self.catalogue[product_id] = ProductInfo(info.product_id, info.name, info.unit_price, False)

    def product(self, product_id: str) -> ProductInfo | None:
        return self.catalogue.get(product_id)


@dataclass(frozen=True)
class ChargeMade:
    idempotency_key: str
    charge: Charge
    amount: Decimal
    payment_method: str
    description: str


@dataclass(frozen=True)
class RefundMade:
    idempotency_key: str
    refund: Refund
    charge_id: str
    amount: Decimal


class FakePayments(PaymentGateway):
    """Stripe's test methods: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is
    declined, anything else is unsupported. `charges` and `refunds` list what was done
    (a replayed key adds nothing); `calls` counts every call, replays included."""

    def __init__(self) -> None:
        self.charges: list[ChargeMade] = []
        self.refunds: list[RefundMade] = []
        self.calls: dict[str, int] = {"charge": 0, "refund": 0}
        self._charges_by_key: dict[str, ChargeMade] = {}
        self._refunds_by_key: dict[str, RefundMade] = {}
        self._ids = itertools.count(1)
        self._faults = _Faults()
        self._lock = threading.Lock()

    def fail_next(self, operation: PaymentOperation, *, after_effect: bool = False) -> None:
        """Make the next call of `operation` raise `InjectedFailure`, before doing anything
        or after doing it (the effect stays, as when a provider answers too late)."""
        self._faults.add(operation, after_effect)

    @property
    def faults_pending(self) -> int:
        return self._faults.pending()

    def is_supported(self, payment_method: str) -> bool:
        return payment_method in (SUCCEEDING_METHOD, DECLINED_METHOD)

    def charge(
        self, *, idempotency_key: str, amount: Decimal, payment_method: str, description: str
    ) -> Charge:
        with self._lock:
            self.calls["charge"] += 1
            fault = self._faults.take("charge")
            if fault is False:
                raise _fail("charge", after_effect=False)
            made = self._charges_by_key.get(idempotency_key)
            if made is None:
                made = self._new_charge(idempotency_key, amount, payment_method, description)
            elif (made.amount, made.payment_method, made.description) != (
                amount,
                payment_method,
                description,
            ):
                raise IdempotencyKeyReused(f"charge key {idempotency_key!r} reused differently")
            if fault is True:
                raise _fail("charge", after_effect=True)
            return made.charge

    def refund(self, *, idempotency_key: str, charge_id: str, amount: Decimal) -> Refund:
        with self._lock:
            self.calls["refund"] += 1
            fault = self._faults.take("refund")
            if fault is False:
                raise _fail("refund", after_effect=False)
            made = self._refunds_by_key.get(idempotency_key)
            if made is None:
                made = self._new_refund(idempotency_key, charge_id, amount)
            elif (made.charge_id, made.amount) != (charge_id, amount):
                raise IdempotencyKeyReused(f"refund key {idempotency_key!r} reused differently")
            if fault is True:
                raise _fail("refund", after_effect=True)
            return made.refund

    def succeeded_charges(self, idempotency_key: str | None = None) -> list[ChargeMade]:
        return [
            c
            for c in self.charges
            if c.charge.succeeded and idempotency_key in (None, c.idempotency_key)
        ]

    def _new_charge(
        self, key: str, amount: Decimal, payment_method: str, description: str
    ) -> ChargeMade:
        if not self.is_supported(payment_method):
            raise ValueError(f"unsupported payment method {payment_method!r}")
        if amount <= 0 or amount != money(amount):
            raise ValueError(f"cannot charge {amount}: a positive amount in cents is needed")
        charge_id = f"ch_{next(self._ids):06d}"
        charge = (
            Charge(charge_id, "succeeded")
            if payment_method == SUCCEEDING_METHOD
            else Charge(charge_id, "declined", "card_declined")
        )
        made = ChargeMade(key, charge, amount, payment_method, description)
        self._charges_by_key[key] = made
        self.charges.append(made)
        return made

    def _new_refund(self, key: str, charge_id: str, amount: Decimal) -> RefundMade:
        charge = next((c for c in self.charges if c.charge.charge_id == charge_id), None)
        if charge is None or not charge.charge.succeeded:
            raise ValueError(f"no succeeded charge {charge_id!r} to refund")
        refunded = sum((r.amount for r in self.refunds if r.charge_id == charge_id), Decimal(0))
        if amount <= 0 or refunded + amount > charge.amount:
            raise ValueError(f"cannot refund {amount} of {charge_id!r}: {refunded} already")
        made = RefundMade(key, Refund(f"re_{next(self._ids):06d}"), charge_id, amount)
        self._refunds_by_key[key] = made
        self.refunds.append(made)
        return made


@dataclass(frozen=True)
class SentMessage:
    idempotency_key: str
    message_id: str
    to_user_id: str
    order_id: str
    total: Decimal
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class CancellationMessage:
    idempotency_key: str
    message_id: str
    to_user_id: str
    order_id: str
    reason: str
    refunded: Decimal | None


class FakeNotifier(Notifier):
    """Records every confirmation in `sent` and every cancellation in `cancellations`;
    the same key sends nothing twice."""

    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.cancellations: list[CancellationMessage] = []
        self._cancelled_by_key: dict[str, CancellationMessage] = {}
        self.calls = 0
        self._by_key: dict[str, SentMessage] = {}
        self._ids = itertools.count(1)
        self._faults = _Faults()
        self._lock = threading.Lock()

    def fail_next(
        self,
        operation: Literal["order_confirmed", "order_cancelled"] = "order_confirmed",
        *,
        after_effect: bool = False,
    ) -> None:
        self._faults.add(operation, after_effect)

    @property
    def faults_pending(self) -> int:
        return self._faults.pending()

    def order_confirmed(
        self,
        *,
        idempotency_key: str,
        to_user_id: str,
        order_id: str,
        total: Decimal,
        lines: Sequence[OrderLine],
    ) -> str:
        with self._lock:
            self.calls += 1
            fault = self._faults.take("order_confirmed")
            if fault is False:
                raise _fail("order_confirmed", after_effect=False)
            sent = self._by_key.get(idempotency_key)
            if sent is None:
                sent = SentMessage(
                    idempotency_key,
                    f"msg_{next(self._ids):06d}",
                    to_user_id,
                    order_id,
                    total,
                    tuple(lines),
                )
                self._by_key[idempotency_key] = sent
                self.sent.append(sent)
            elif (sent.to_user_id, sent.order_id, sent.total) != (to_user_id, order_id, total):
                raise IdempotencyKeyReused(f"message key {idempotency_key!r} reused differently")
            if fault is True:
                raise _fail("order_confirmed", after_effect=True)
            return sent.message_id

    def order_cancelled(
        self,
        *,
        idempotency_key: str,
        to_user_id: str,
        order_id: str,
        reason: str,
        refunded: Decimal | None,
    ) -> str:
        with self._lock:
            self.calls += 1
            fault = self._faults.take("order_cancelled")
            if fault is False:
                raise _fail("order_cancelled", after_effect=False)
            sent = self._cancelled_by_key.get(idempotency_key)
            if sent is None:
                sent = CancellationMessage(
                    idempotency_key,
                    f"msg_{next(self._ids):06d}",
                    to_user_id,
                    order_id,
                    reason,
                    refunded,
                )
                self._cancelled_by_key[idempotency_key] = sent
                self.cancellations.append(sent)
            elif (sent.to_user_id, sent.order_id) != (to_user_id, order_id):
                raise IdempotencyKeyReused(f"message key {idempotency_key!r} reused differently")
            if fault is True:
                raise _fail("order_cancelled", after_effect=True)
            return sent.message_id
