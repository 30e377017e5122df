"""The order process: from a placed order to a confirmed (and notified) one, or to a
cancelled one with its stock back and its charge refunded.

`handle` runs for every event of an order's stream, at least once, possibly redelivered,
possibly after a crash anywhere. Each time it loads the order and does the one step its
state calls for (`Order.next_step`), recording the outcome as events; a completed step is
never done again, since its outcome is in the order's state. Steps are idempotent:

- a step that touches stock writes the order's event and every inventory's in one
  append, all or none;
- a step that calls a provider passes an idempotency key derived from the order, so
  calling again after a crash (effect done, event not recorded) answers the same charge,
  refund or message without a second effect;
- a charge is announced (`PaymentRequested`) before the provider is called, so an order
  cancelled meanwhile knows a charge may exist, asks for it again with the same key
  (`settle`) and refunds it;
- every step runs under `repository.transact`: a concurrent write (the customer cancels, another
  order takes the last unit) makes it decide again on fresh state.

The steps that call the provider or the mailer (`OUTSIDE_STEPS`: charge, settle, refund,
the two emails) run from a queue, never in a stream shard's loop: the stream reader does
the store's steps (reserve, request the payment, confirm, release) and hands each outside
step the state calls for to the queue (event_sourcing/process.py, `Reach`). The events that
make a step due (PaymentRequested, OrderConfirmed, OrderCancelled, PaymentCharged of a
cancelled order) are what records it, once; its message may come twice and then finds it
done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.ordering.inventory import Inventory, bucket_ids
from domain.ordering.order import OUTSIDE_STEPS, Order, Step
from domain.ordering.ports import Notifier, PaymentGateway
from event_sourcing.process import ProcessManager
from event_sourcing.repository import Decision, EventSourcedRepository


def charge_key(order_id: str) -> str:
    return f"charge-{order_id}"


def refund_key(order_id: str) -> str:
    return f"refund-{order_id}"


def confirmation_key(order_id: str) -> str:
    return f"confirm-{order_id}"


def cancellation_key(order_id: str) -> str:
    return f"cancelled-{order_id}"


class OrderProcess(ProcessManager[Order, Step]):
    aggregate = Order

    def __init__(
        self, repository: EventSourcedRepository, payments: PaymentGateway, notifier: Notifier
    ) -> None:
        super().__init__(repository)
        self.payments = payments
        self.notifier = notifier
        # Each step records on the order and answers the other streams it changed.
        self._steps: dict[Step, Callable[[Order], list[Inventory]]] = {
            Step.RESERVE: self._reserve,
            Step.REQUEST_PAYMENT: self._request_payment,
            Step.CHARGE: self._charge,
            Step.SETTLE: self._charge,
            Step.CONFIRM: self._confirm,
            Step.NOTIFY: self._notify,
            Step.RELEASE: self._release,
            Step.REFUND: self._refund,
            Step.NOTIFY_CANCELLATION: self._notify_cancellation,
        }

    def outside(self, order: Order) -> Step | None:
        step = order.next_step()
        return step if step in OUTSIDE_STEPS else None

    def next_step(self, order: Order) -> Decision[Step] | None:
        step = order.next_step()
        return None if step is None else Decision(step, also=self._steps[step](order))

    def _reserve(self, order: Order) -> list[Inventory]:
        """One read of each line's home bucket; every bucket of a product only when its
        home one is short (near a sell-out)."""
        inventories = self.repository.load_many(Inventory, order.stock_ids())
        short = [b for p in order.short_of(inventories) for b in bucket_ids(p)]
        inventories |= self.repository.load_many(
            Inventory, [b for b in short if b not in inventories]
        )
        order.reserve_stock(inventories, self._now())
        return [i for i in inventories.values() if i.pending]

    def _request_payment(self, order: Order) -> list[Inventory]:
        order.request_payment()
        return []

    def _charge(self, order: Order) -> list[Inventory]:
        """Charge (or, for an order cancelled meanwhile, learn what the charge did)."""
        payment_method = order.state.payment_method
        if payment_method is None:
            raise ValueError(f"order {order.id!r} has no payment method")
        charge = self.payments.charge(
            idempotency_key=charge_key(order.id),
            amount=order.amount,
            payment_method=payment_method,
            description=f"Order {order.id}",
        )
        inventories = (
            {} if charge.succeeded else self.repository.load_many(Inventory, order.stock_ids())
        )
        order.record_charge(charge, self._now(), inventories)
        return list(inventories.values())

    def _confirm(self, order: Order) -> list[Inventory]:
        inventories = self.repository.load_many(Inventory, order.stock_ids())
        order.confirm(inventories, self._now())
        return list(inventories.values())

    def _notify(self, order: Order) -> list[Inventory]:
        message_id = self.notifier.order_confirmed(
            idempotency_key=confirmation_key(order.id),
            to_user_id=order.state.customer_id,
            order_id=order.id,
            total=order.amount,
            lines=order.state.items,
        )
        order.record_confirmation(message_id, self._now())
        return []

    def _release(self, order: Order) -> list[Inventory]:
        inventories = self.repository.load_many(Inventory, order.stock_ids())
        order.release_stock(inventories)
        return list(inventories.values())

    def _refund(self, order: Order) -> list[Inventory]:
        charge_id = order.state.charge_id
        if charge_id is None:
            raise ValueError(f"order {order.id!r} has no charge to refund")
        refund = self.payments.refund(
            idempotency_key=refund_key(order.id), charge_id=charge_id, amount=order.amount
        )
        order.record_refund(refund)
        return []

    def _notify_cancellation(self, order: Order) -> list[Inventory]:
        state = order.state
        reason = str(state.reason)
        if state.decline_code:
            reason = f"{reason} ({state.decline_code})"
        message_id = self.notifier.order_cancelled(
            idempotency_key=cancellation_key(order.id),
            to_user_id=state.customer_id,
            order_id=order.id,
            reason=reason,
            refunded=order.amount if state.refund_id is not None else None,
        )
        order.record_cancellation_notice(message_id, self._now())
        return []

    def _now(self) -> datetime:
        return self.repository.clock.now()
