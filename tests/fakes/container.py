"""The composition root's wiring on the in-memory fakes: handlers tested without AWS."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from domain.identity.ports import (
    AttemptCounter,
    Mailer,
    PasswordHasher,
    Pseudonyms,
    ResetTokens,
    TokenIssuer,
)
from domain.ordering.ports import Notifier, PaymentGateway
from event_sourcing.events import Clock, IdGenerator
from event_sourcing.generations import Generations
from event_sourcing.personal import KeyStore
from event_sourcing.repository import EventStore
from event_sourcing.views import ViewStore
from infra.container import Container

if TYPE_CHECKING:
    from infra.idempotency import IdempotentRequests


API_URL = "https://api.shop.example.com"
"""Where the fakes' reset links point."""


class InMemoryContainer(Container):
    """The same wiring on the in-memory fakes: for tests of handlers without AWS."""

    def __init__(self) -> None:
        super().__init__({"PUBLIC_API_URL": API_URL})
        from event_sourcing.testing.memory import ManualClock

        self.manual_clock = ManualClock()

    @cached_property
    def clock(self) -> Clock:
        return self.manual_clock

    @cached_property
    def ids(self) -> IdGenerator:
        from event_sourcing.testing.memory import SequentialIds

        return SequentialIds()

    @cached_property
    def event_store(self) -> EventStore:
        from event_sourcing.testing.memory import InMemoryEventStore

        return InMemoryEventStore()

    @cached_property
    def views(self) -> ViewStore:
        from event_sourcing.testing.memory import InMemoryViewStore

        return InMemoryViewStore()

    @cached_property
    def projector_views(self) -> ViewStore:
        return self.views

    @cached_property
    def generations(self) -> Generations:
        from event_sourcing.testing.memory import InMemoryGenerations, InMemoryViewStore

        views = self.views
        assert isinstance(views, InMemoryViewStore)
        return InMemoryGenerations(views)

    @cached_property
    def hasher(self) -> PasswordHasher:
        from tests.fakes.memory import FakeHasher

        return FakeHasher()

    @cached_property
    def tokens(self) -> TokenIssuer:
        from tests.fakes.memory import FakeTokenIssuer

        return FakeTokenIssuer(self.clock)

    @cached_property
    def failed_logins(self) -> AttemptCounter:
        from tests.fakes.memory import InMemoryAttemptCounter

        return InMemoryAttemptCounter(self.clock)

    @cached_property
    def idempotency(self) -> IdempotentRequests:
        from tests.fakes.idempotency import InMemoryIdempotentRequests

        return InMemoryIdempotentRequests()

    @cached_property
    def payments(self) -> PaymentGateway:
        from tests.fakes.ordering import FakePayments

        return FakePayments()

    @cached_property
    def notifier(self) -> Notifier:
        from tests.fakes.ordering import FakeNotifier

        return FakeNotifier()

    @cached_property
    def mailer(self) -> Mailer:
        from tests.fakes.identity import FakeMailer

        return FakeMailer()

    @cached_property
    def reset_tokens(self) -> ResetTokens:
        from tests.fakes.identity import FakeResetTokens

        return FakeResetTokens()

    @cached_property
    def data_keys(self) -> KeyStore:
        from event_sourcing.testing.memory import InMemoryKeyStore

        return InMemoryKeyStore()

    @cached_property
    def pseudonyms(self) -> Pseudonyms:
        from infra.tokens import HmacPseudonyms

        return HmacPseudonyms(lambda: "a test key of the pseudonyms, 32+ characters long")
