"""The order process split as deployed: the stream reader does the store's steps and
queues the outside ones; the queue's consumer charges, refunds and mails, once, however
often a message comes and whatever write loses its answer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.ordering import service as ordering
from domain.ordering.commands import CancelOrder
from domain.ordering.order import OrderStatus, PaymentStatus, Step
from domain.processes import ORDER_STREAMS
from event_sourcing.process import DueWork, Processes
from tests.domain.ordering.support import CUSTOMER, HAPPY_PATH, World
from tests.fakes.ordering import DECLINED_METHOD, InjectedFailure
from tests.fakes.work_queue import InMemoryWorkQueue


class Split:
    """One shard's reader (store steps) and the queue's consumer, over a World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.processes = Processes({ORDER_STREAMS: lambda: world.process})
        self.queue = InMemoryWorkQueue()
        self.seen: dict[str, int] = {}
        self.consumed: list[list[str]] = []

    def read_stream(self) -> int:
        """Hand every order event not handed yet to the reader, in order; answers how many."""
        fresh = [
            (stream, event.version)
            for stream in sorted(self.world.store.stream_ids())
            if stream.startswith(ORDER_STREAMS)
            for event in self.world.store.read(stream)
            if event.version > self.seen.get(stream, 0)
        ]
        for stream, version in fresh:
            self.processes.step_in_store(
                stream,
                version,
                correlation_id="c",
                causation_id=f"{stream}@{version}",
                queue=self.queue,
            )
            self.seen[stream] = version
        return len(fresh)

    def consume(self, *, times: int = 1) -> int:
        """Run every waiting message `times` times (a redelivery: SQS is at least once);
        a message whose call fails stays queued. Answers how many were run."""
        waiting, self.queue.waiting = self.queue.waiting, []
        for work in waiting:
            for _ in range(times):
                try:
                    self.consumed.append(self.processes.call_out(work))
                except InjectedFailure:
                    self.queue.waiting.append(work)
                    break
        return len(waiting)

    def run(self, *, times: int = 1) -> None:
        for _ in range(50):
            if not self.read_stream() + self.consume(times=times):
                return
        raise AssertionError("the order process did not settle")


@pytest.fixture
def split(world: World) -> Split:
    return Split(world)


def test_the_stream_reader_never_calls_the_provider_or_the_mailer(
    world: World, split: Split
) -> None:
    order = world.placed()
    for _ in range(5):
        split.read_stream()
    assert world.payments.calls == {"charge": 0, "refund": 0}
    assert world.notifier.calls == 0
    assert world.order(order.id).state.payment is PaymentStatus.REQUESTED
    assert {(w.stream_id, w.step) for w in split.queue.sent} == {(f"order-{order.id}", "charge")}


def test_a_placed_order_is_charged_confirmed_and_mailed_through_the_queue(
    world: World, split: Split
) -> None:
    order = world.placed()
    split.run()
    assert world.types(order.id) == HAPPY_PATH
    assert [steps for steps in split.consumed if steps] == [[Step.CHARGE], [Step.NOTIFY]]
    world.check_books([order.id])


def test_every_message_delivered_twice_charges_once_and_mails_once(
    world: World, split: Split
) -> None:
    confirmed, declined = world.placed(("p1", 1)), world.placed(("p2", 1), method=DECLINED_METHOD)
    split.run(times=2)
    assert world.order(confirmed.id).state.status is OrderStatus.CONFIRMED
    assert world.order(declined.id).state.status is OrderStatus.CANCELLED
    assert len(world.payments.succeeded_charges()) == 1
    assert len(world.notifier.sent) == len(world.notifier.cancellations) == 1
    world.check_books([confirmed.id, declined.id])


@pytest.mark.parametrize("event_type", ["PaymentCharged", "ConfirmationSent"])
def test_a_lost_ack_on_the_recorded_outcome_makes_no_second_call(
    world: World, split: Split, event_type: str
) -> None:
    order = world.placed()
    world.store.fail_append_of(event_type, after_effect=True)
    split.run()
    assert world.store.faults_pending == 0
    assert world.payments.calls["charge"] == 1
    assert len(world.notifier.sent) == 1
    world.check_books([order.id])


def test_a_crash_after_the_provider_charged_asks_again_with_the_same_key(
    world: World, split: Split
) -> None:
    order = world.placed()
    world.payments.fail_next("charge", after_effect=True)
    split.run()
    assert world.payments.calls["charge"] == 2  # asked twice, charged once
    assert len(world.payments.succeeded_charges()) == 1
    world.check_books([order.id])


def test_a_failed_email_is_retried_and_sent_once(world: World, split: Split) -> None:
    order = world.placed()
    world.notifier.fail_next("order_confirmed", after_effect=True)
    split.run()
    assert len(world.notifier.sent) == 1
    world.check_books([order.id])


def test_a_cancelled_charged_order_is_refunded_then_mailed_in_one_message(
    world: World, split: Split
) -> None:
    order = world.placed(("p1", 1))
    split.run()
    ordering.cancel(world.repository, CancelOrder(order.id), CUSTOMER)
    split.run(times=2)
    assert [steps for steps in split.consumed if steps][-1] == [
        Step.REFUND,
        Step.NOTIFY_CANCELLATION,
    ]
    (told,) = world.notifier.cancellations
    assert (told.reason, told.refunded) == ("cancelled_by_customer", Decimal("12.50"))
    world.check_books([order.id])


def test_a_message_before_its_step_is_due_does_nothing(world: World, split: Split) -> None:
    order = world.placed()
    appends = world.store.appends
    work = DueWork(f"order-{order.id}", "charge", 4, "c", "early")
    assert split.processes.call_out(work) == []  # the reservation is the stream's to do
    assert world.store.appends == appends
    assert world.payments.calls["charge"] == 0
