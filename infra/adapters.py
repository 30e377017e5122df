"""The composition root's second job: the adapters of every port, and the event-sourced
repository over them, each built on first use (importing this module imports no boto3)."""

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
from domain.ordering.ports import Notifier, PaymentGateway, ProductCatalog
from event_sourcing.events import Clock, IdGenerator, registry
from event_sourcing.process import WorkQueue
from event_sourcing.repository import Backoff, EventSourcedRepository, EventStore
from event_sourcing.views import ViewStore
from infra.settings import MissingSetting, Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from event_sourcing.personal import KeyStore, PersonalData
    from infra.idempotency import IdempotentRequests
    from infra.notifications import SesNotifier

ANSWER_MARGIN_SECONDS = 2.0
MIN_RETRY_SECONDS = 0.5


class Adapters(Settings):
    """AWS clients and the adapters of the ports, from the settings."""

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        import boto3
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
            tcp_keepalive=True,
        )
        return boto3.client("dynamodb", config=config)

    # -- ports ----------------------------------------------------------------------------

    @cached_property
    def clock(self) -> Clock:
        from event_sourcing.events import SystemClock

        return SystemClock()

    @cached_property
    def ids(self) -> IdGenerator:
        from event_sourcing.events import UlidIds

        return UlidIds()

    @cached_property
    def event_store(self) -> EventStore:
        from event_sourcing.dynamodb.event_store import DynamoDBEventStore

        return DynamoDBEventStore(self.dynamodb, self.setting("EVENTS_TABLE"))

    @cached_property
    def views(self) -> ViewStore:
        """The whole views table as queries read it (eventually consistent: cheaper)."""
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        return DynamoDBViewStore(self.dynamodb, self.setting("VIEWS_TABLE"), consistent_reads=False)

    @cached_property
    def hasher(self) -> PasswordHasher:
        from infra.passwords import BcryptHasher

        return BcryptHasher(int(self.setting("BCRYPT_ROUNDS", "12")))

    @cached_property
    def tokens(self) -> TokenIssuer:
        from infra.tokens import JwtTokenIssuer

        return JwtTokenIssuer(
            self._signing_key, self.clock, int(self.setting("ACCESS_TOKEN_TTL_SECONDS", "3600"))
        )

    @cached_property
    def failed_logins(self) -> AttemptCounter:
        from infra.attempts import DynamoDBAttemptCounter

        return DynamoDBAttemptCounter(self.dynamodb, self.setting("THROTTLE_TABLE"), self.clock)

    @cached_property
    def idempotency(self) -> IdempotentRequests:
        from infra.idempotency import IdempotentRequests

        return IdempotentRequests(
            self.dynamodb,
            self.setting("IDEMPOTENCY_TABLE"),
            lambda: self._secret("IDEMPOTENCY_KEY_SECRET", minimum_length=32).encode(),
        )

    @cached_property
    def data_keys(self) -> KeyStore:
        """Each customer's data key (crypto-shredding): KEYS_TABLE, wrapped by DATA_KEY_ID.
        The KMS client is made on the first key that is not cached yet."""
        from event_sourcing.dynamodb.keys import DynamoDBKeyStore

        def kms() -> object:
            import boto3

            return boto3.client("kms")

        return DynamoDBKeyStore(
            self.dynamodb, kms, self.setting("KEYS_TABLE"), self.setting("DATA_KEY_ID")
        )

    @cached_property
    def personal_data(self) -> PersonalData:
        from event_sourcing.dynamodb.keys import DynamoDBErasureLog
        from event_sourcing.personal import PersonalData

        # Every function has the log in its environment (template.yaml); the operator CLI of
        # a stack deployed before it existed has none, and erases nothing.
        log = self.setting("ERASURE_LOG_TABLE", "")
        return PersonalData(self.data_keys, DynamoDBErasureLog(self.dynamodb, log) if log else None)

    @cached_property
    def pseudonyms(self) -> Pseudonyms:
        from infra.tokens import HmacPseudonyms

        return HmacPseudonyms(lambda: self._secret("PSEUDONYM_KEY_SECRET", minimum_length=32))

    # -- the core, wired ------------------------------------------------------------------

    @cached_property
    def repository(self) -> EventSourcedRepository:
        """Personal fields are sealed on the way in and opened on the way out (the data
        key is fetched only for events that have such fields)."""
        return EventSourcedRepository(
            self.event_store,
            self.clock,
            self.ids,
            events=registry.sealing(self.personal_data),
            backoff=Backoff(time_left=self._time_left),
        )

    def _time_left(self) -> float:
        """Seconds a contended command may keep retrying: the invocation's remaining time
        less ANSWER_MARGIN_SECONDS to answer (and store the idempotent answer) in time."""
        if self.invocation is None:
            return Backoff.budget
        left = self.invocation.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
        return max(left, MIN_RETRY_SECONDS)

    @cached_property
    def product_catalog(self) -> ProductCatalog:
        from infra.catalog_port import EventSourcedCatalog

        return EventSourcedCatalog(self.repository)

    @cached_property
    def payments(self) -> PaymentGateway:
        """PAYMENT_PROVIDER=local (Stripe's test methods, no network) or stripe."""
        provider = self.setting("PAYMENT_PROVIDER", "local")
        if provider == "local":
            from infra.payments import LocalPayments

            return LocalPayments()
        if provider == "stripe":
            from infra.payments import StripePayments

            return StripePayments(lambda: self._secret("STRIPE_SECRET"))
        raise MissingSetting(f"PAYMENT_PROVIDER must be local or stripe, not {provider!r}")

    @cached_property
    def work_queue(self) -> WorkQueue:
        """The outside-calls queue (OUTSIDE_CALLS_QUEUE_URL): the order process's reader
        sends it the provider and mail steps it leaves undone."""
        import boto3
        from botocore.config import Config

        from infra.work_queue import SqsWorkQueue

        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2)
        return SqsWorkQueue(
            boto3.client("sqs", config=config), self.setting("OUTSIDE_CALLS_QUEUE_URL")
        )

    @cached_property
    def _ses(self) -> SesNotifier:
        import boto3

        from domain.identity.user import User
        from infra.notifications import SesNotifier

        def email_of(user_id: str) -> str:
            return self.repository.load(User, user_id).state.email

        return SesNotifier(
            boto3.client("sesv2"),
            self.setting("NOTIFY_FROM"),
            email_of,
            self.idempotency,
            lambda: self.invocation,
        )

    @cached_property
    def notifier(self) -> Notifier:
        return self._ses

    @cached_property
    def mailer(self) -> Mailer:
        return self._ses

    @cached_property
    def reset_tokens(self) -> ResetTokens:
        from infra.tokens import HmacResetTokens

        return HmacResetTokens(lambda: self._secret("RESET_KEY_SECRET", minimum_length=32))

    def _signing_key(self) -> str:
        return self._secret("SIGNING_KEY_SECRET", minimum_length=32)
