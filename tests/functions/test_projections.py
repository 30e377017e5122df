"""Every projection, fed real stream records (moto) through the projector function, equals
a rebuild from the event table, whatever DynamoDB Streams does: in order, redelivered,
shuffled with duplicates, with records withheld (gaps), and with a poison record. And the
views answer, over HTTP, what the commands of the history imply.

One battery, parametrized by history (tests/functions/histories.py): a projection joins
it by appearing in a history."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator

import pytest

from tests.functions.histories import (
    Fresh,
    World,
    assert_views_are_right,
    catalogue_history,
    deliver,
    fresh_views,
    last_versions,
    ordering_history,
    stream_of,
    world_of,
)
from tests.support.streams import sequence_number

HISTORIES = {"catalogue": catalogue_history, "ordering": ordering_history}


@pytest.fixture(scope="module", params=sorted(HISTORIES))
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    yield from world_of(HISTORIES[request.param])


@pytest.fixture
def fresh(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fresh]:
    yield from fresh_views(world, monkeypatch)


def test_in_order_delivery_equals_a_rebuild_in_every_view_item(fresh: Fresh) -> None:
    records = fresh.history.records
    assert deliver(records) == []
    assert fresh.positions() == last_versions(records)
    assert_views_are_right(fresh)


def test_a_redelivered_batch_changes_nothing(fresh: Fresh) -> None:
    records = fresh.history.records
    assert deliver(records) == []
    before = fresh.views()
    assert deliver(records) == []
    assert fresh.views() == before
    assert deliver(list(reversed(records))) == []
    assert fresh.views() == before


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_shuffled_batches_with_duplicates_equal_a_rebuild(fresh: Fresh, seed_value: int) -> None:
    rng = random.Random(seed_value)
    records = fresh.history.records
    shuffled = records + rng.sample(records, k=len(records) // 2)
    rng.shuffle(shuffled)
    third = len(shuffled) // 3
    for part in (shuffled[:third], shuffled[third : 2 * third], shuffled[2 * third :]):
        assert deliver(part) == []
    assert fresh.positions() == last_versions(records)
    assert_views_are_right(fresh)


def test_withheld_records_are_filled_from_the_event_table(fresh: Fresh) -> None:
    history = fresh.history
    withheld = history.withheld()
    assert withheld
    rest = [r for r in history.records if all(r is not w for w in withheld)]
    assert deliver(rest) == []
    assert fresh.positions() == last_versions(history.records)
    assert_views_are_right(fresh)
    before = fresh.views()
    assert deliver(withheld) == []  # they arrive late: duplicates
    assert fresh.views() == before


def test_a_poison_record_fails_with_the_later_records_of_its_stream_only(fresh: Fresh) -> None:
    records = fresh.history.records
    victim = fresh.history.poisoned()
    stream = stream_of(records[victim])
    poisoned = copy.deepcopy(records)
    poisoned[victim]["dynamodb"]["NewImage"]["data"] = {"S": "{not json"}

    failures = deliver(poisoned)

    assert failures == [
        sequence_number(r) for i, r in enumerate(records) if stream_of(r) == stream and i >= victim
    ]
    before = int(records[victim]["dynamodb"]["NewImage"]["version"]["N"]) - 1
    held = fresh.positions()
    assert held.get(stream, 0) == before
    assert {s: v for s, v in held.items() if s != stream} == {
        s: v for s, v in last_versions(records).items() if s != stream
    }  # every other stream went on
    # Lambda retries from the first failure, with the real records: everything catches up.
    assert deliver(records[victim:]) == []
    assert fresh.positions() == last_versions(records)
    assert_views_are_right(fresh)
