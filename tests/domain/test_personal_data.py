"""Personal fields are stored sealed under their subject's key, read back in clear, and read
as erased once the key is destroyed: in events, in snapshots, in replays (the kit's
crypto-shredding, on the in-memory store and key store)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import pytest

from domain.access import Caller, CommandContext, Role
from event_sourcing.events import DomainEvent, EventRegistry
from event_sourcing.personal import ERASED, PersonalData, SubjectErased
from event_sourcing.repository import Aggregate, EventSourcedRepository, applies
from event_sourcing.testing.memory import (
    InMemoryEventStore,
    InMemoryKeyStore,
    ManualClock,
    SequentialIds,
)

CONTEXT = CommandContext("corr", "cause", Caller("admin", Role.ADMIN))
events = EventRegistry()


@events.event
@dataclass(frozen=True)
class Joined(DomainEvent):
    personal: ClassVar[tuple[str, ...]] = ("email",)
    email: str
    plan: str


@events.event
@dataclass(frozen=True)
class Noted(DomainEvent):
    """Written by someone about another member: the subject is named in the event."""

    personal: ClassVar[tuple[str, ...]] = ("text",)
    subject: ClassVar[str | None] = "about"
    about: str
    text: str


@dataclass
class MemberState:
    personal: ClassVar[tuple[str, ...]] = ("email",)
    email: str = ""
    plan: str = ""
    notes: int = 0


class Member(Aggregate[MemberState]):
    stream_prefix = "member"
    state_type = MemberState

    @applies(Joined)
    def _joined(self, state: MemberState, event: Joined) -> MemberState:
        return replace(state, email=event.email, plan=event.plan)

    @applies(Noted)
    def _noted(self, state: MemberState, event: Noted) -> MemberState:
        return replace(state, notes=state.notes + 1)


@pytest.fixture
def keys() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def repo(store: InMemoryEventStore, keys: InMemoryKeyStore) -> EventSourcedRepository:
    sealing = events.sealing(PersonalData(keys))
    return EventSourcedRepository(
        store, ManualClock(), SequentialIds(), events=sealing, snapshot_every=2
    )


def join(repo: EventSourcedRepository, id: str = "m1", email: str = "ada@example.com") -> None:
    member = repo.load(Member, id)
    member._record(Joined(email, "gold"))
    repo.save(member, context=CONTEXT)


def test_a_personal_field_is_stored_sealed_and_loaded_in_clear(
    repo: EventSourcedRepository, store: InMemoryEventStore
) -> None:
    join(repo)
    (stored,) = store.read("member-m1")
    assert stored.data["email"].startswith("pd1:m1:")
    assert "ada" not in str(stored.data)
    assert stored.data["plan"] == "gold"
    assert repo.load(Member, "m1").state.email == "ada@example.com"


def test_an_erased_subject_replays_with_its_personal_fields_erased(
    repo: EventSourcedRepository, keys: InMemoryKeyStore
) -> None:
    join(repo)
    PersonalData(keys).erase("m1")
    member = repo.load(Member, "m1")
    assert member.version == 1
    assert member.state.email == ERASED
    assert member.state.plan == "gold"


def test_a_snapshot_seals_the_states_personal_fields(
    repo: EventSourcedRepository, store: InMemoryEventStore, keys: InMemoryKeyStore
) -> None:
    join(repo)
    member = repo.load(Member, "m1")
    member._record(Noted("m1", "likes gardening"))
    repo.save(member, context=CONTEXT)
    tail = store.tail("member-m1", window=2)
    assert tail.snapshot is not None
    assert "ada" not in str(tail.snapshot.state)
    assert repo.load(Member, "m1").state.email == "ada@example.com"
    PersonalData(keys).erase("m1")
    assert repo.load(Member, "m1").state.email == ERASED


def test_an_event_about_another_subject_is_sealed_under_that_subjects_key(
    repo: EventSourcedRepository, store: InMemoryEventStore, keys: InMemoryKeyStore
) -> None:
    join(repo, "m1")
    join(repo, "m2", "grace@example.com")
    member = repo.load(Member, "m1")
    member._record(Noted("m2", "grace's note"))
    repo.save(member, context=CONTEXT)
    noted = store.read("member-m1")[-1]
    assert noted.data["text"].startswith("pd1:m2:")
    PersonalData(keys).erase("m2")
    assert events.sealing(PersonalData(keys)).decode(noted) == Noted("m2", ERASED)
    assert repo.load(Member, "m1").state.email == "ada@example.com"


def test_nothing_personal_can_be_stored_for_an_erased_subject(
    repo: EventSourcedRepository, keys: InMemoryKeyStore
) -> None:
    PersonalData(keys).erase("m1")
    with pytest.raises(SubjectErased):
        join(repo)


def test_events_stored_in_clear_before_sealing_still_read(
    store: InMemoryEventStore, keys: InMemoryKeyStore
) -> None:
    clear = EventSourcedRepository(store, ManualClock(), SequentialIds(), events=events)
    join(clear)
    assert store.read("member-m1")[0].data["email"] == "ada@example.com"
    sealing = events.sealing(PersonalData(keys))
    repo = EventSourcedRepository(store, ManualClock(), SequentialIds(), events=sealing)
    assert repo.load(Member, "m1").state.email == "ada@example.com"
