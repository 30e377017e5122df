"""The DynamoDB event store under contention, as DynamoDB answers it (the local stack's
conflict emulation, devstack.conflicts): a TransactionConflict is a retryable
`ConcurrencyError` (botocore retries neither `TransactionCanceledException` nor
`TransactionConflictException`), holders of one key share no item, and a retirement and
a hold racing on one key never both win."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from devstack import conflicts, iam
from domain.access import Caller, CommandContext, Role
from event_sourcing.dynamodb.event_store import DynamoDBEventStore, hold_key, hold_line_key
from event_sourcing.errors import ConcurrencyError, HeldTooLate, KeyHeld
from event_sourcing.guards import Hold, Retire
from event_sourcing.repository import Append, Backoff, EventSourcedRepository
from event_sourcing.testing.builders import recorded
from event_sourcing.testing.memory import ManualClock, SequentialIds
from tests.domain.counter import Counter, test_events
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FUNCTION_KEY = "AKIAEVENTSTORECONFL1"
EVERYTHING = iam.Policy.from_documents(
    [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
)
TABLE = table_name("EventsTable")


class Spy:
    """A client that records each TransactWriteItems' keys and may run something first."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.transactions: list[list[str]] = []
        self.before: dict[str, list[Callable[[], object]]] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**request: Any) -> Any:
            for interloper in self.before.pop(name, []):
                interloper()
            if name == "transact_write_items":
                self.transactions.append(
                    [_key(next(iter(i.values()))) for i in request["TransactItems"]]
                )
            return method(**request)

        return call


def _key(body: dict[str, Any]) -> str:
    key = body.get("Key") or {k: body["Item"][k] for k in ("stream_id", "version")}
    return f"{key['stream_id']['S']}|{key['version']['N']}"


@pytest.fixture
def emulator() -> Iterator[conflicts.Emulator]:
    iam.registry.register(FUNCTION_KEY, iam.Principal("Fn", "arn:aws:iam::1:role/r", EVERYTHING))
    conflicts.install()
    try:
        yield conflicts.configure(conflicts.Conflicts())
    finally:
        iam.registry.forget(FUNCTION_KEY)
        conflicts.configure(conflicts.Conflicts(overlap=False))


@pytest.fixture
def function_client(dynamodb: DynamoDBClient, emulator: conflicts.Emulator) -> Any:
    """Calls as a function of the stack, with the composition root's retry settings."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id=FUNCTION_KEY,
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def held(emulator: conflicts.Emulator, key: dict[str, Any]) -> Any:
    """Another transaction holding the event table's item `key` meanwhile."""
    import json

    return emulator.transaction("Other", [(TABLE, json.dumps(key, sort_keys=True))])


def test_a_transaction_conflict_on_a_stream_is_a_retryable_concurrency_error(
    function_client: Any, emulator: conflicts.Emulator
) -> None:
    store = DynamoDBEventStore(function_client, TABLE)
    event = recorded("o-1", 1)
    two = Append("o-1", 0, [event, recorded("o-1", 2)])
    with held(emulator, {"stream_id": {"S": "o-1"}, "version": {"N": "1"}}):
        with pytest.raises(ConcurrencyError):
            store.append(two)
        with pytest.raises(ConcurrencyError):  # a single write: TransactionConflictException
            store.append(Append("o-1", 0, [recorded("o-1", 1)]))
    assert store.read("o-1") == []
    assert emulator.total("cancelled") == emulator.total("conflict") == 1


def test_a_transaction_conflict_on_a_hold_is_a_retryable_concurrency_error(
    function_client: Any, emulator: conflicts.Emulator
) -> None:
    store = DynamoDBEventStore(function_client, TABLE)
    with held(emulator, hold_line_key("product", "p1", "o-1")), pytest.raises(ConcurrencyError):
        store.append(
            Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1, "o-1")]
        )
    assert store.holders("product", "p1") == 0


def test_the_repository_decides_again_after_a_transaction_conflict(
    function_client: Any, emulator: conflicts.Emulator
) -> None:
    store = DynamoDBEventStore(function_client, TABLE)
    holding = held(emulator, {"stream_id": {"S": "counter-c1"}, "version": {"N": "1"}})
    holding.__enter__()
    pauses: list[float] = []

    def sleep(pause: float) -> None:  # the other transaction ends during the pause
        pauses.append(pause)
        holding.__exit__(None, None, None)

    repository = EventSourcedRepository(
        store, ManualClock(), SequentialIds(), events=test_events, backoff=Backoff(sleep=sleep)
    )
    context = CommandContext("corr-1", "cause-1", Caller("u1", Role.ADMIN))
    repository.transact(Counter, "c1", lambda c: c.add(2), context=context)
    assert len(pauses) == 1
    assert repository.load(Counter, "c1").state.total == 2


def test_holders_of_one_key_write_no_item_in_common(dynamodb: DynamoDBClient) -> None:
    spy = Spy(dynamodb)
    store = DynamoDBEventStore(spy, TABLE)  # type: ignore[arg-type]
    for order in ("o-1", "o-2"):
        store.append(
            Append(order, 0, [recorded(order, 1), recorded(order, 2)]),
            holds=[Hold("product", "p1", 1, order)],
        )
    first, second = (set(keys) for keys in spy.transactions)
    assert first.isdisjoint(second)
    assert store.holders("product", "p1") == 2


def test_a_hold_written_after_the_retirement_looked_is_let_go_of(
    dynamodb: DynamoDBClient,
) -> None:
    spy = Spy(dynamodb)
    store = DynamoDBEventStore(spy, TABLE)  # type: ignore[arg-type]
    deleting = DynamoDBEventStore(dynamodb, TABLE)
    # the product is deleted between the order's catalogue read and its write
    spy.before["transact_write_items"] = [
        lambda: deleting.append(
            Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")]
        )
    ]
    with pytest.raises(HeldTooLate) as late:
        store.append(
            Append("o-1", 0, [recorded("o-1", 1), recorded("o-1", 2)]),
            holds=[Hold("product", "p1", 1, "o-1")],
        )
    assert late.value.keys == {"p1"}
    assert store.holders("product", "p1") == 0
    assert len(store.read("p-1")) == 1


def test_a_retirement_that_meets_a_fresh_hold_is_refused_and_the_hold_stays(
    dynamodb: DynamoDBClient,
) -> None:
    spy = Spy(dynamodb)
    store = DynamoDBEventStore(spy, TABLE)  # type: ignore[arg-type]
    deleting = DynamoDBEventStore(dynamodb, TABLE)
    refused: list[Exception] = []

    def delete() -> None:
        try:
            deleting.append(
                Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")]
            )
        except KeyHeld as error:
            refused.append(error)

    # the hold has landed; the retirement runs before the holder reads the key's mark
    spy.before["get_item"] = [delete]
    store.append(
        Append("o-1", 0, [recorded("o-1", 1), recorded("o-1", 2)]),
        holds=[Hold("product", "p1", 1, "o-1")],
    )
    assert len(refused) == 1
    assert store.holders("product", "p1") == 1
    assert store.read("p-1") == []
    mark = dynamodb.get_item(TableName=TABLE, Key=hold_key("product", "p1")).get("Item", {})
    assert "retiring" not in mark
    assert "retired" not in mark
