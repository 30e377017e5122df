"""What ordering needs from outside: the catalogue's products, a payment provider, a way
to tell the customer. Each call that has an effect takes an idempotency key: the same key
answers the first answer and has no second effect, so a step redone after a crash is safe."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from domain.ordering.values import OrderLine


@dataclass(frozen=True)
class ProductInfo:
    """What an order needs of a catalogue product."""

    product_id: str
    name: str
    unit_price: Decimal
    is_active: bool


class ProductCatalog(ABC):
    @abstractmethod
    def product(self, product_id: str) -> ProductInfo | None:
        """The product as the catalogue has it now; None if there is no such product."""

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo | None]:
        """Several products as of now (placing an order checks every line's); an adapter
        may read them together."""
        return {product_id: self.product(product_id) for product_id in product_ids}


ChargeStatus = Literal["succeeded", "declined"]


@dataclass(frozen=True)
class Charge:
    charge_id: str
    status: ChargeStatus
    decline_code: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Refund:
    refund_id: str


class PaymentGateway(ABC):
    @abstractmethod
    def is_supported(self, payment_method: str) -> bool:
        """Whether `charge` accepts this payment method at all."""

    @abstractmethod
    def charge(
        self, *, idempotency_key: str, amount: Decimal, payment_method: str, description: str
    ) -> Charge:
        """Charge `amount`; a decline is an answer, not an error. Raises on a failure to
        get an answer (the charge may or may not have happened: call again, same key)."""

    @abstractmethod
    def refund(self, *, idempotency_key: str, charge_id: str, amount: Decimal) -> Refund:
        """Give back `amount` of a succeeded charge."""


class Notifier(ABC):
    @abstractmethod
    def order_confirmed(
        self,
        *,
        idempotency_key: str,
        to_user_id: str,
        order_id: str,
        total: Decimal,
        lines: Sequence[OrderLine],
    ) -> str:
        """Tell the customer their order is confirmed; answers the message's id."""

    @abstractmethod
    def order_cancelled(
        self,
        *,
        idempotency_key: str,
        to_user_id: str,
        order_id: str,
        reason: str,
        refunded: Decimal | None,
    ) -> str:
        """Tell the customer their order is cancelled, why, and what was given back
        (`refunded`: the amount refunded, None when nothing was charged); answers the
        message's id."""
