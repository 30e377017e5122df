"""The contract every event store passes: the in-memory fake, DynamoDB, and DynamoDB losing
every ack (each write lands, then its answer is lost and the SDK retries it: the store must
tell its own write from someone else's)."""

from __future__ import annotations

import pytest

from event_sourcing.errors import (
    ConcurrencyError,
    HeldTooLate,
    KeyHeld,
    KeyRetired,
    UniquenessViolation,
)
from event_sourcing.events import Snapshot
from event_sourcing.guards import Claim, Hold, Retire
from event_sourcing.repository import MAX_APPEND_ITEMS, Append, EventStore
from event_sourcing.testing.builders import events, recorded


class EventStoreContract:
    """What every `EventStore` keeps: atomic appends, optimistic concurrency, claims, holds,
    retirements, published states and notes, bounded tails, scans; a write whose answer
    was lost counts as done.

    Subclass it in a test module with a `store` fixture that yields the adapter
    under test (an `EventStore`), once per variant (the fake, DynamoDB, DynamoDB losing
    every ack)."""

    def test_an_appended_event_reads_back_with_its_whole_envelope(self, store: EventStore) -> None:
        event = recorded("s-1", 1, "Thing", {"price": "19.99", "tags": ["a"], "n": None})
        store.append(Append("s-1", 0, [event]))
        assert store.read("s-1") == [event]

    def test_a_stale_expected_version_is_refused_and_names_the_current_one(
        self, store: EventStore
    ) -> None:
        store.append(Append("s-1", 0, events("s-1", 1, 3)))
        with pytest.raises(ConcurrencyError) as conflict:
            store.append(Append("s-1", 1, [recorded("s-1", 2)]))
        assert (conflict.value.expected, conflict.value.actual) == (1, 3)
        assert [e.version for e in store.read("s-1")] == [1, 2, 3]

    def test_a_single_event_conflict_names_the_current_version(self, store: EventStore) -> None:
        store.append(Append("s-1", 0, [recorded("s-1", 1)]))
        with pytest.raises(ConcurrencyError) as conflict:
            store.append(Append("s-1", 0, [recorded("s-1", 1)]))
        assert conflict.value.actual == 1

    def test_appends_to_several_streams_are_all_or_nothing(self, store: EventStore) -> None:
        store.append(Append("b", 0, [recorded("b", 1)]))
        with pytest.raises(ConcurrencyError):
            store.append(
                Append("a", 0, events("a", 1, 2)),
                Append("b", 0, [recorded("b", 1)]),
            )
        assert store.read("a") == []
        assert len(store.read("b")) == 1

    def test_a_claim_is_unique_and_atomic_with_the_events(self, store: EventStore) -> None:
        store.append(
            Append("user-1", 0, [recorded("user-1", 1)]),
            claims=[Claim("email", "x@y.io", "user-1")],
        )
        with pytest.raises(UniquenessViolation) as taken:
            store.append(
                Append("user-2", 0, [recorded("user-2", 1)]),
                claims=[Claim("email", "x@y.io", "user-2")],
            )
        assert taken.value.owner == "user-1"
        assert store.read("user-2") == []
        assert store.claim_owner("email", "x@y.io") == "user-1"
        assert store.claim_owner("email", "nobody@y.io") is None

    def test_a_released_claim_can_be_claimed_by_another_owner(self, store: EventStore) -> None:
        claim = Claim("email", "x@y.io", "user-1")
        store.append(Append("user-1", 0, [recorded("user-1", 1)]), claims=[claim])
        store.append(Append("user-1", 1, [recorded("user-1", 2)]), claims=[claim.release()])
        assert store.claim_owner("email", "x@y.io") is None
        store.append(
            Append("user-2", 0, [recorded("user-2", 1)]),
            claims=[Claim("email", "x@y.io", "user-2")],
        )
        assert store.claim_owner("email", "x@y.io") == "user-2"

    def test_only_its_owner_releases_a_claim(self, store: EventStore) -> None:
        store.append(
            Append("user-1", 0, [recorded("user-1", 1)]),
            claims=[Claim("email", "x@y.io", "user-1")],
        )
        with pytest.raises(UniquenessViolation):
            store.append(
                Append("user-2", 0, [recorded("user-2", 1)]),
                claims=[Claim("email", "x@y.io", "user-2").release()],
            )
        assert store.claim_owner("email", "x@y.io") == "user-1"
        assert store.read("user-2") == []

    def test_releasing_a_value_nobody_holds_is_a_no_op(self, store: EventStore) -> None:
        store.append(
            Append("user-1", 0, [recorded("user-1", 1)]),
            claims=[Claim("email", "x@y.io", "user-1").release()],
        )
        assert store.claim_owner("email", "x@y.io") is None
        assert len(store.read("user-1")) == 1

    def test_claiming_again_for_the_same_owner_is_not_a_conflict(self, store: EventStore) -> None:
        claim = Claim("email", "x@y.io", "user-1")
        store.append(Append("user-1", 0, [recorded("user-1", 1)]), claims=[claim])
        store.append(Append("user-1", 1, [recorded("user-1", 2)]), claims=[claim])
        assert len(store.read("user-1")) == 2

    def test_read_slices_by_version(self, store: EventStore) -> None:
        store.append(Append("s", 0, events("s", 1, 5)))
        assert [e.version for e in store.read("s", after=2)] == [3, 4, 5]
        assert [e.version for e in store.read("s", after=1, up_to=3)] == [2, 3]
        assert store.read("s", after=3, up_to=3) == []
        assert store.read("missing") == []

    def test_tail_of_an_empty_stream_is_version_zero(self, store: EventStore) -> None:
        tail = store.tail("nothing", window=10)
        assert (tail.version, tail.snapshot, list(tail.events)) == (0, None, [])

    def test_head_is_the_newest_version_and_zero_for_an_empty_stream(
        self, store: EventStore
    ) -> None:
        store.append(Append("s", 0, events("s", 1, 3)))
        store.append(Append("s", 3, events("s", 4, 7)))
        store.append(Append("t", 0, events("t", 1, 1)))
        assert (store.head("s"), store.head("t"), store.head("nothing")) == (7, 1, 0)

    def test_tail_without_snapshot_gives_every_event(self, store: EventStore) -> None:
        store.append(Append("s", 0, events("s", 1, 25)))
        tail = store.tail("s", window=10)
        assert tail.version == 25
        assert tail.snapshot is None
        assert [e.version for e in tail.events] == list(range(1, 26))

    def test_tail_gives_the_newest_snapshot_and_only_the_events_after_it(
        self, store: EventStore
    ) -> None:
        store.append(Append("s", 0, events("s", 1, 10), Snapshot(10, 1, {"total": 10})))
        store.append(Append("s", 10, events("s", 11, 12)))
        tail = store.tail("s", window=10)
        assert tail.version == 12
        assert tail.snapshot == Snapshot(10, 1, {"total": 10})
        assert [e.version for e in tail.events] == [11, 12]

    def test_a_snapshot_outside_the_window_is_not_used(self, store: EventStore) -> None:
        store.append(Append("s", 0, events("s", 1, 3), Snapshot(3, 1, {"total": 3})))
        store.append(Append("s", 3, events("s", 4, 20)))
        tail = store.tail("s", window=10)
        assert tail.snapshot is None
        assert [e.version for e in tail.events] == list(range(1, 21))

    def test_events_must_be_numbered_from_the_expected_version(
        self,
    ) -> None:
        with pytest.raises(ValueError, match="numbered from 3"):
            Append("s", 2, [recorded("s", 4)])

    def test_stream_ids_lists_every_stream_with_events_and_no_claims(
        self, store: EventStore
    ) -> None:
        store.append(Append("a", 0, events("a", 1, 2)), claims=[Claim("email", "x@y.io", "a")])
        store.append(Append("b", 0, events("b", 1, 1)))
        assert sorted(store.stream_ids()) == ["a", "b"]

    def test_holds_are_counted_with_the_events_that_take_and_let_go_of_them(
        self,
        store: EventStore,
    ) -> None:
        assert store.holders("product", "p1") == 0
        store.append(Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1)])
        store.append(
            Append("o-2", 0, [recorded("o-2", 1)]),
            holds=[Hold("product", "p1", 1), Hold("product", "p2", 1)],
        )
        assert (store.holders("product", "p1"), store.holders("product", "p2")) == (2, 1)
        store.append(Append("o-1", 1, [recorded("o-1", 2)]), holds=[Hold("product", "p1", -1)])
        assert store.holders("product", "p1") == 1

    def test_a_hold_fails_with_its_events(self, store: EventStore) -> None:
        store.append(Append("o-1", 0, [recorded("o-1", 1)]))
        with pytest.raises(ConcurrencyError):
            store.append(Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1)])
        assert store.holders("product", "p1") == 0

    def test_a_held_key_cannot_be_retired_and_nothing_is_written(self, store: EventStore) -> None:
        store.append(Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1)])
        with pytest.raises(KeyHeld) as held:
            store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])
        assert (held.value.namespace, held.value.key) == ("product", "p1")
        assert store.read("p-1") == []
        # Let go of, it can.
        store.append(Append("o-1", 1, [recorded("o-1", 2)]), holds=[Hold("product", "p1", -1)])
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])
        assert len(store.read("p-1")) == 1

    def test_a_retired_key_cannot_be_held_again_and_nothing_is_written(
        self, store: EventStore
    ) -> None:
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])
        with pytest.raises(KeyRetired) as retired:
            store.append(Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1)])
        # Retryable: the writer reloads and the domain refuses on fresh state.
        assert isinstance(retired.value, ConcurrencyError)
        assert store.read("o-1") == []
        assert store.holders("product", "p1") == 0

    def test_holds_of_holders_are_counted_and_let_go_of_by_each_holder(
        self, store: EventStore
    ) -> None:
        for order in ("o-1", "o-2"):
            store.append(
                Append(order, 0, [recorded(order, 1)]), holds=[Hold("product", "p1", 1, order)]
            )
        assert store.holders("product", "p1") == 2
        with pytest.raises(KeyHeld):
            store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])
        for order in ("o-1", "o-2"):
            store.append(
                Append(order, 1, [recorded(order, 2)]), holds=[Hold("product", "p1", -1, order)]
            )
        assert store.holders("product", "p1") == 0
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])
        assert len(store.read("p-1")) == 1

    def test_a_hold_the_previous_release_counted_is_let_go_of_by_its_holder(
        self, store: EventStore
    ) -> None:
        # written by the previous release: a count, no holder
        store.append(Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1)])
        store.append(
            Append("o-2", 0, [recorded("o-2", 1)]), holds=[Hold("product", "p1", 1, "o-2")]
        )
        assert store.holders("product", "p1") == 2
        store.append(
            Append("o-1", 1, [recorded("o-1", 2)]), holds=[Hold("product", "p1", -1, "o-1")]
        )
        assert store.holders("product", "p1") == 1
        store.append(
            Append("o-2", 1, [recorded("o-2", 2)]), holds=[Hold("product", "p1", -1, "o-2")]
        )
        assert store.holders("product", "p1") == 0
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])

    def test_a_holder_never_keeps_a_retired_key(self, store: EventStore) -> None:
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p1")])
        # Refused before the write (KeyRetired), or let go of right after it (HeldTooLate).
        with pytest.raises((KeyRetired, HeldTooLate)):
            store.append(
                Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1, "o-1")]
            )
        assert store.holders("product", "p1") == 0

    def test_a_holders_append_that_landed_is_done_when_sent_again(self, store: EventStore) -> None:
        several = Append("s-2", 0, events("s-2", 1, 3))
        store.append(several, holds=[Hold("product", "p1", 1, "s-2")])
        store.append(several, holds=[Hold("product", "p1", 1, "s-2")])
        assert store.holders("product", "p1") == 1

    def test_a_never_held_key_can_be_retired(self, store: EventStore) -> None:
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p9")])
        assert store.holders("product", "p9") == 0

    def test_one_append_changes_a_key_once(self, store: EventStore) -> None:
        with pytest.raises(ValueError, match="at most once"):
            store.append(
                Append("o-1", 0, [recorded("o-1", 1)]),
                holds=[Hold("product", "p1", 1)],
                retire=[Retire("product", "p1")],
            )

    def test_hold_items_are_not_streams(self, store: EventStore) -> None:
        store.append(Append("o-1", 0, [recorded("o-1", 1)]), holds=[Hold("product", "p1", 1)])
        store.append(Append("p-1", 0, [recorded("p-1", 1)]), retire=[Retire("product", "p2")])
        assert sorted(store.stream_ids()) == ["o-1", "p-1"]

    def test_tails_of_several_streams_are_each_streams_tail(self, store: EventStore) -> None:
        store.append(Append("a", 0, events("a", 1, 3)))
        store.append(Append("b", 0, [recorded("b", 1)]))
        tails = store.tails(["a", "b", "nothing"], window=10)
        assert tails == {s: store.tail(s, window=10) for s in ("a", "b", "nothing")}
        assert store.tails([], window=10) == {}

    def test_an_append_that_landed_is_done_when_sent_again(self, store: EventStore) -> None:
        one = Append("s-1", 0, [recorded("s-1", 1)])
        several = Append("s-2", 0, events("s-2", 1, 3))
        store.append(one)
        store.append(several, holds=[Hold("product", "p1", 1)])

        store.append(one)
        store.append(several, holds=[Hold("product", "p1", 1)])

        assert [e.version for e in store.read("s-1")] == [1]
        assert [e.version for e in store.read("s-2")] == [1, 2, 3]
        assert store.holders("product", "p1") == 1

    def test_another_writers_event_at_that_version_is_still_a_conflict(
        self, store: EventStore
    ) -> None:
        store.append(Append("s-1", 0, [recorded("s-1", 1)]))

        with pytest.raises(ConcurrencyError):
            store.append(Append("s-1", 0, [recorded("s-1", 1)]))
        with pytest.raises(ConcurrencyError):
            store.append(Append("s-1", 0, events("s-1", 1, 2)), holds=[Hold("product", "p1", 1)])
        assert store.holders("product", "p1") == 0

    # -- published states and notes

    def test_a_published_state_is_written_with_its_events_and_read_alone(
        self, store: EventStore
    ) -> None:
        doc = {"active": True, "role": "admin", "credentials_version": 2, "none": None}
        assert store.published("user-1") is None
        store.append(Append("user-1", 0, events("user-1", 1, 2), published=doc, publish=True))
        assert store.published("user-1") == doc
        assert store.tail("user-1", window=10).published == doc
        assert [e.version for e in store.read("user-1")] == [1, 2]

    def test_the_tail_tells_what_the_newest_append_recorded_as_published(
        self, store: EventStore
    ) -> None:
        first, second = {"active": True}, {"active": False}
        store.append(Append("user-1", 0, [recorded("user-1", 1)], published=first, publish=True))
        # recorded, not written: the item keeps what was published before
        store.append(Append("user-1", 1, [recorded("user-1", 2)], published=second))
        assert store.tail("user-1", window=10).published == second
        assert store.published("user-1") == first
        store.append(
            Append(
                "user-1",
                2,
                events("user-1", 3, 12),
                Snapshot(12, 1, {"n": 12}),
                second,
                publish=True,
            )
        )
        assert store.tail("user-1", window=10).published == second
        assert store.published("user-1") == second
        # a stream written before it published (no state recorded): its tail says so
        store.append(Append("user-1", 12, [recorded("user-1", 13)]))
        assert store.tail("user-1", window=10).published is None
        assert store.published("user-1") == second

    def test_a_published_state_fails_with_its_events(self, store: EventStore) -> None:
        store.append(Append("user-1", 0, [recorded("user-1", 1)], published={"v": 1}, publish=True))
        store.append(
            Append("user-2", 0, [recorded("user-2", 1)]),
            claims=[Claim("email", "x@y.io", "user-2")],
        )
        with pytest.raises(ConcurrencyError):
            store.append(
                Append("user-1", 0, [recorded("user-1", 1)], published={"v": 2}, publish=True)
            )
        with pytest.raises(UniquenessViolation):
            store.append(
                Append("user-1", 1, [recorded("user-1", 2)], published={"v": 3}, publish=True),
                claims=[Claim("email", "x@y.io", "user-1")],
            )
        assert store.published("user-1") == {"v": 1}
        assert store.tail("user-1", window=10).published == {"v": 1}

    def test_a_published_state_needs_events_and_counts_as_an_item(self, store: EventStore) -> None:
        with pytest.raises(ValueError, match="with the events"):
            Append("s", 0, [], published={"v": 1}, publish=True)
        with pytest.raises(ValueError, match="published"):
            Append("s", 0, [recorded("s", 1)], publish=True)
        full = events("s", 1, MAX_APPEND_ITEMS)
        with pytest.raises(ValueError, match=f"at most {MAX_APPEND_ITEMS}"):
            store.append(Append("s", 0, full, published={"v": 1}, publish=True))
        store.append(Append("s", 0, full[:-1], published={"v": 1}, publish=True))
        assert store.published("s") == {"v": 1}

    def test_an_append_with_a_published_state_that_landed_is_done_when_sent_again(
        self, store: EventStore
    ) -> None:
        one = Append("user-1", 0, [recorded("user-1", 1)], published={"v": 1}, publish=True)
        store.append(one)
        later = Append("user-1", 1, [recorded("user-1", 2)], published={"v": 2}, publish=True)
        store.append(later)
        store.append(one)  # a late retry of the first: its own events, done; nothing goes back
        store.append(later)
        assert [e.version for e in store.read("user-1")] == [1, 2]
        assert store.published("user-1") == {"v": 2}

    def test_published_items_are_not_streams(self, store: EventStore) -> None:
        store.append(Append("user-1", 0, [recorded("user-1", 1)], published={"v": 1}, publish=True))
        store.note("user-1", "last_login", "2026-01-01T00:00:00Z")
        store.note("user-9", "last_login", "2026-01-01T00:00:00Z")
        assert sorted(store.stream_ids()) == ["user-1"]
        assert store.read("user-9") == []
        assert store.tail("user-9", window=10).version == 0

    def test_notes_keep_the_newest_value_beside_the_published_state(
        self, store: EventStore
    ) -> None:
        assert store.notes("user-1") == {}
        store.note("user-1", "last_login", "2026-01-01T10:00:00Z")
        assert store.published("user-1") is None  # a note alone publishes nothing
        store.append(Append("user-1", 0, [recorded("user-1", 1)], published={"v": 1}, publish=True))
        store.note("user-1", "last_login", "2026-01-01T09:00:00Z")  # older: kept out
        assert store.notes("user-1") == {"last_login": "2026-01-01T10:00:00Z"}
        store.note("user-1", "last_login", "2026-01-01T11:00:00Z")
        store.note("user-1", "other", "x")
        store.append(Append("user-1", 1, [recorded("user-1", 2)], published={"v": 2}, publish=True))
        assert store.notes("user-1") == {"last_login": "2026-01-01T11:00:00Z", "other": "x"}
        assert store.published("user-1") == {"v": 2}
        assert [e.version for e in store.read("user-1")] == [1, 2]
