"""What sealing personal data costs: requests to the keys table and KMS per command, and
the time of a replay with sealed fields against the same replay in clear (moto, real
DynamoDB and KMS APIs, counted by botocore hooks)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from domain.identity.user import User
from event_sourcing.dynamodb.event_store import DynamoDBEventStore
from event_sourcing.dynamodb.keys import DynamoDBKeyStore
from event_sourcing.events import SystemClock, UlidIds, registry
from event_sourcing.personal import KeyCache, PersonalData
from event_sourcing.repository import EventSourcedRepository
from tests.fakes.memory import FakeHasher

CUSTOMERS = 50
EVENTS_EACH = 10
"""A replay reads this many events of each customer (a registration, password changes)."""


@dataclass(frozen=True)
class Step:
    name: str
    keys_requests: int
    kms_calls: str
    events_requests: int


@dataclass(frozen=True)
class Measured:
    steps: list[Step]
    replay_events: int
    replay_kms_calls: int
    replay_keys_requests: int
    time_ratio: float


class Calls:
    """Requests per (service, operation, table) since the last `reset`."""

    def __init__(self) -> None:
        self.counted: Counter[tuple[str, str, str]] = Counter()

    def attach(self, client: Any, service: str) -> None:
        def count(params: dict[str, Any], model: Any, **_: Any) -> None:
            items = params.get("TransactItems") or [{"": params}]
            tables = {next(iter(i.values())).get("TableName", "") for i in items}
            for table in tables:  # a transaction counts once for each table it writes
                self.counted[(service, model.name, str(table))] += 1

        client.meta.events.register(f"provide-client-params.{service}.*", count)

    def reset(self) -> None:
        self.counted.clear()

    def on(self, service: str, table: str = "") -> int:
        return sum(n for (s, _, t), n in self.counted.items() if s == service and t == table)

    def kms(self) -> str:
        found = sorted((op, n) for (s, op, _), n in self.counted.items() if s == "kms")
        return ", ".join(f"{n} {op}" for op, n in found) or "none"


def measure() -> Measured:
    import boto3
    from moto import mock_aws

    from tests.support.tables import create_tables

    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        kms = boto3.client("kms")
        tables = create_tables(dynamodb)
        key_id = kms.create_key(KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
        calls = Calls()
        calls.attach(dynamodb, "dynamodb")
        calls.attach(kms, "kms")
        events, keys_table = tables["EventsTable"], tables["KeysTable"]
        store = DynamoDBEventStore(dynamodb, events)

        def repository(cache: KeyCache | None = None, *, sealed: bool = True) -> Any:
            keys = DynamoDBKeyStore(dynamodb, lambda: kms, keys_table, key_id, cache)
            chosen = registry.sealing(PersonalData(keys)) if sealed else registry
            return EventSourcedRepository(store, SystemClock(), UlidIds(), events=chosen)

        hasher = FakeHasher()
        warm = repository()
        steps: list[Step] = []

        def step(name: str, work: Any) -> Any:
            calls.reset()
            done = work()
            steps.append(
                Step(
                    name,
                    calls.on("dynamodb", keys_table),
                    calls.kms(),
                    calls.on("dynamodb", events),
                )
            )
            return done

        clock = SystemClock()

        def register(n: int) -> User:
            user = User.register(f"u{n}", f"u{n}@example.com", "pass word 1", hasher, clock.now())
            warm.save(user, context=_context())
            return user

        first = step("register (the customer's first sealed value)", lambda: register(0))

        def change(repo: Any) -> None:
            user = repo.load(User, first.id)
            user.change_password("pass word 1", "pass word 1", hasher, clock.now())
            repo.save(user, context=_context())

        step("change a password (the key cached in this container)", lambda: change(warm))
        step("change a password (a cold container)", lambda: change(repository()))

        # A replay: every customer's events read and opened in one container, as a rebuild.
        users = [register(n) for n in range(1, CUSTOMERS + 1)]
        for user in users:
            for _ in range(EVENTS_EACH - 1):
                user.change_password("pass word 1", "pass word 1", hasher, clock.now())
                warm.save(user, context=_context())

        def replay(repo: Any) -> float:
            started = time.perf_counter()
            for user in users:  # every event decoded, its personal fields opened
                [repo.events.decode(e) for e in repo.history(User, user.id)]
            return time.perf_counter() - started

        calls.reset()
        replay(repository())  # cold: the keys it needs
        kms_calls = sum(n for (s, _, _), n in calls.counted.items() if s == "kms")
        keys_requests = calls.on("dynamodb", keys_table)
        warm_replay = repository()
        replay(warm_replay)
        sealed = min(replay(warm_replay) for _ in range(3))
        clear_repo = repository(sealed=False)
        clear = min(replay(clear_repo) for _ in range(3))
        return Measured(steps, CUSTOMERS * EVENTS_EACH, kms_calls, keys_requests, sealed / clear)


def _context() -> Any:
    from domain.access import CommandContext

    return CommandContext("bench", "bench")
