"""The projector function fed real stream records (moto) through Powertools' batch
processor: duplicates, shuffles, withheld records and poison change nothing they should not,
and the views always equal a rebuild from the event table."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import batch, sequence_number, stream_records
from tests.support.views import Items, items_of, rebuilt


def seed(stack: Stack, users: int = 3) -> list[dict[str, Any]]:
    """Each user: registered, then two password changes = 3 events per stream (a sign-in
    is no event)."""
    for n in range(users):
        email = f"user{n}@example.com"
        password = "pass word 1"
        assert (
            stack.api.request(
                "POST", "/users", json_body={"email": email, "password": password}
            ).status
            == 201
        )
        for step in range(2):
            signed_in = stack.api.request(
                "POST", "/auth/token", json_body={"email": email, "password": password}
            )
            assert signed_in.status == 200
            change = {"old_password": password, "new_password": f"pass word {step + 2}"}
            changed = stack.api.request(
                "POST",
                "/users/me/password",
                json_body=change,
                token=signed_in.json["access_token"],
            )
            assert changed.status == 200, changed.text
            password = change["new_password"]
    return stream_records(stack.client, stack.tables["EventsTable"])


def deliver(records: list[dict[str, Any]]) -> list[str]:
    from functions.projectors.app import handler

    result = handler(batch(records), FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def views_of(stack: Stack, table: str | None = None) -> Items:
    return items_of(stack.client, table or stack.tables["ViewsTable"])


def rebuilt_views(stack: Stack) -> Items:
    return rebuilt(stack.client, stack.tables["ViewsTable"])


def test_in_order_delivery_equals_a_rebuild(stack: Stack) -> None:
    records = seed(stack)
    assert deliver(records) == []
    assert views_of(stack) == rebuilt_views(stack)


def test_a_redelivered_batch_changes_nothing(stack: Stack) -> None:
    records = seed(stack)
    deliver(records)
    before = views_of(stack)
    assert deliver(records) == []
    assert views_of(stack) == before


@pytest.mark.parametrize("seed_value", [1, 2, 3, 4, 5])
def test_shuffled_batches_with_duplicates_equal_a_rebuild(stack: Stack, seed_value: int) -> None:
    records = seed(stack)
    rng = random.Random(seed_value)
    shuffled = records + rng.sample(records, k=len(records) // 2)
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    assert deliver(shuffled[:half]) == []
    assert deliver(shuffled[half:]) == []
    assert views_of(stack) == rebuilt_views(stack)


def test_a_withheld_record_is_filled_from_the_event_table(stack: Stack) -> None:
    records = seed(stack, users=1)
    last = records[-1]
    assert deliver([last]) == []
    profile = next(v for (pk, sk), v in views_of(stack).items() if sk == "profile")
    assert profile["version"] == {"N": "3"}
    assert profile["email"]["S"] == "user0@example.com"  # from the withheld registration
    assert deliver(records[:-1]) == []  # the withheld ones arrive late: duplicates
    assert views_of(stack) == rebuilt_views(stack)


def test_a_poison_record_fails_with_the_later_records_of_its_stream_only(stack: Stack) -> None:
    records = seed(stack, users=2)
    streams = [r["dynamodb"]["NewImage"]["stream_id"]["S"] for r in records]
    first_stream = streams[0]
    poisoned = copy.deepcopy(records)
    victim = next(
        i
        for i, s in enumerate(streams)
        if s == first_stream and poisoned[i]["dynamodb"]["NewImage"]["version"]["N"] == "2"
    )
    poisoned[victim]["dynamodb"]["NewImage"]["data"] = {"S": "{not json"}
    failures = deliver(poisoned)
    expected = [
        sequence_number(r)
        for i, r in enumerate(poisoned)
        if streams[i] == first_stream and i >= victim
    ]
    assert failures == expected
    positions = {pk: v for (pk, sk), v in views_of(stack).items() if pk.startswith("position#")}
    assert positions[f"position#{first_stream}"]["version"] == {"N": "1"}
    other = next(s for s in streams if s != first_stream)
    assert positions[f"position#{other}"]["version"] == {"N": "3"}
    # Lambda retries from the first failure, with the real record: everything catches up.
    assert deliver(records[victim:]) == []
    assert views_of(stack) == rebuilt_views(stack)


def test_an_unreadable_record_is_reported_not_crashing_the_batch(stack: Stack) -> None:
    records = seed(stack, users=1)
    garbage = copy.deepcopy(records[0])
    garbage["dynamodb"]["NewImage"] = {"stream_id": {"S": "user-x"}, "kind": {"S": "event"}}
    garbage["dynamodb"]["SequenceNumber"] = "999999999999"
    failures = deliver([*records, garbage])
    assert failures == ["999999999999"]
    assert views_of(stack) == rebuilt_views(stack)
