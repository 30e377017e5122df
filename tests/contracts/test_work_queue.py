"""One contract for the outside-calls queue: the fake, and SQS through moto. What a reader
sends, its consumer reads back as the same due work."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from event_sourcing.process import DueWork, WorkQueue
from infra.work_queue import SqsWorkQueue, work_of
from tests.fakes.work_queue import InMemoryWorkQueue

Received = Callable[[], list[DueWork]]


@pytest.fixture(params=["fake", "sqs"])
def queue(request: pytest.FixtureRequest) -> Iterator[tuple[WorkQueue, Received]]:
    if request.param == "fake":
        fake = InMemoryWorkQueue()
        yield fake, fake.take
        return
    import boto3

    from tests.support.aws import mock_aws

    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="outside-calls")["QueueUrl"]

        def received() -> list[DueWork]:
            messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            return [work_of(m["Body"]) for m in messages]

        yield SqsWorkQueue(client, url), received


def test_what_is_sent_is_read_back_as_the_same_due_work(
    queue: tuple[WorkQueue, Received],
) -> None:
    sending, received = queue
    charge = DueWork("order-o1", "charge", 6, "corr-1", "evt-6")
    mail = DueWork("user-u1", "welcome", 1, "corr-2", "evt-1")
    sending.send(charge)
    sending.send(mail)
    assert sorted(received(), key=lambda w: w.stream_id) == [charge, mail]


def test_a_message_that_is_no_due_work_is_refused() -> None:
    for body in ("not json", "[1, 2]", '{"stream_id": "order-o1"}'):
        with pytest.raises(ValueError, match="due-work message"):
            work_of(body)
