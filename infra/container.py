"""The composition root: builds every adapter from the environment, lazily.

Handlers call `container()` inside their entry point, never at import: importing a handler
creates no AWS client (and imports no boto3), so a cold start pays only for what it uses."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from domain.catalog.service import CatalogService
from domain.identity.ports import AttemptCounter, Mailer, PasswordHasher, ResetTokens, TokenIssuer
from domain.identity.process import UserMail
from domain.identity.service import IdentityService
from domain.ordering.ports import Notifier, PaymentGateway, ProductCatalog
from domain.ordering.process import OrderProcess
from domain.ordering.service import OrderingService
from domain.processes import Processes
from domain.projections import all_projections, projection_named
from event_sourcing.clock import Clock, IdGenerator
from event_sourcing.generations import Generations, Pointer, PointerMoved
from event_sourcing.projector import Projector, Projectors
from event_sourcing.repository import Backoff, EventSourcedRepository
from event_sourcing.store import EventStore
from event_sourcing.views import ViewReader, ViewStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from event_sourcing.dynamodb.progress import ProgressLog
    from infra.idempotency import IdempotentRequests, RemainingTime
    from infra.notifications import SesNotifier


READER_CACHE_SECONDS = 5.0
"""How long a query function reads one generation pointer before reading it again."""
ANSWER_MARGIN_SECONDS = 2.0
MIN_RETRY_SECONDS = 0.5
UNBUILT = 0
"""The version recorded for a generation built from part of the history only."""


class MissingSetting(RuntimeError):
    pass


class Container:
    """Every dependency of the handlers, each built on first use and then kept."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        # The Lambda context of the invocation being served (set by the entry point): what
        # adapters that lock something for the invocation's lifetime measure it by.
        self.invocation: RemainingTime | None = None
        self._pointers: dict[str, tuple[Pointer, float]] = {}

    def setting(self, name: str, default: str | None = None) -> str:
        value = self.env.get(name, default)
        if value is None:
            raise MissingSetting(
                f"{name} is not set: run the function through the local stack (make run), "
                "or set it as template.yaml does."
            )
        return value

    # -- AWS ----------------------------------------------------------------------------

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
        from infra.system import SystemClock

        return SystemClock()

    @cached_property
    def ids(self) -> IdGenerator:
        from infra.system import UlidIds

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

    def live(self, projection: str) -> ViewReader:
        """The live generation of `projection`'s views, as queries read them.

        Its pointer is read again once it is READER_CACHE_SECONDS old (one GetItem), so a
        switch reaches every reader within that time; the old generation is kept current
        meanwhile and dropped only after it (infra/rebuild.py)."""
        now = time.monotonic()
        cached = self._pointers.get(projection)
        if cached is None or now - cached[1] > READER_CACHE_SECONDS:
            pointer = self.generations.read([projection_named(projection)])[projection]
            cached = self._pointers[projection] = (pointer, now)
        return self.views.scoped(cached[0].live.prefix)

    def _recorded(self, pointer: Pointer, *, joined: bool) -> Pointer:
        """A pointer never written (a fresh stack) is written once, by the first projector,
        so that it names the version its code builds generation 1 with (what `status` and
        `rebuild --changed` compare with a later version). A projection that `joined` a
        stack whose other projections were already built sees new events only: its
        generation 1 is recorded as of version UNBUILT, so that `status` flags it and
        `rebuild --changed` fills it from the event table."""
        if pointer.epoch:
            return pointer
        written = replace(pointer, epoch=1)
        if joined:
            written = replace(written, live=replace(written.live, version=UNBUILT))
        try:
            self.generations.save(written, read_at=0)
        except PointerMoved:
            return self.generations.read([projection_named(pointer.projection)])[pointer.projection]
        return written

    def progress(self, reader: str) -> ProgressLog:
        """Where a stream reader records what it did: a table it already writes."""
        from event_sourcing.dynamodb.progress import ProgressLog

        if reader == "order-process":
            return ProgressLog(self.dynamodb, self.setting("IDEMPOTENCY_TABLE"), key="id")
        return ProgressLog(self.dynamodb, self.setting("VIEWS_TABLE"))

    @cached_property
    def generations(self) -> Generations:
        from event_sourcing.dynamodb.generations import DynamoDBGenerations

        return DynamoDBGenerations(self.dynamodb, self.setting("VIEWS_TABLE"))

    @cached_property
    def projector_views(self) -> ViewStore:
        """The views as the projector reads them to rewrite them (strongly consistent)."""
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        return DynamoDBViewStore(self.dynamodb, self.setting("VIEWS_TABLE"), consistent_reads=True)

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

    # -- the core, wired ------------------------------------------------------------------

    @cached_property
    def repository(self) -> EventSourcedRepository:
        return EventSourcedRepository(
            self.event_store, self.clock, self.ids, backoff=Backoff(time_left=self._time_left)
        )

    def _time_left(self) -> float:
        """Seconds a contended command may keep retrying: the invocation's remaining time
        less ANSWER_MARGIN_SECONDS to answer (and store the idempotent answer) in time."""
        if self.invocation is None:
            return Backoff.budget
        left = self.invocation.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
        return max(left, MIN_RETRY_SECONDS)

    @cached_property
    def identity(self) -> IdentityService:
        return IdentityService(
            self.repository, self.hasher, self.tokens, self.failed_logins, self.reset_tokens
        )

    @cached_property
    def catalog(self) -> CatalogService:
        return CatalogService(self.repository)

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

    @cached_property
    def user_mail(self) -> UserMail:
        # The page a reset link opens is the API's: PUBLIC_API_URL is the HTTP API's
        # endpoint (template.yaml), the local gateway's on the local stack.
        base = self.setting("PUBLIC_API_URL").rstrip("/")
        return UserMail(
            self.repository,
            self.mailer,
            self.reset_tokens,
            lambda token: f"{base}/reset-password?{urlencode({'token': token})}",
        )

    @cached_property
    def processes(self) -> Processes:
        """What the event table's second reader runs: the order process and the user mail."""
        return Processes(lambda: self.order_process, lambda: self.user_mail)

    @cached_property
    def ordering(self) -> OrderingService:
        return OrderingService(self.repository, self.product_catalog, self.payments)

    @cached_property
    def order_process(self) -> OrderProcess:
        return OrderProcess(self.repository, self.payments, self.notifier)

    @cached_property
    def projector(self) -> Projectors:
        """Every active generation of every projection (read once, again when they change)."""

        def load() -> list[Projector]:
            projections = all_projections()
            pointers = self.generations.read(projections)
            joined = any(pointer.epoch for pointer in pointers.values())
            for projection in projections:
                pointers[projection.name] = self._recorded(pointers[projection.name], joined=joined)
            return [
                Projector(
                    projection,
                    self.event_store,
                    self.projector_views.scoped(generation.prefix),
                    guard=pointers[projection.name].guard,
                )
                for projection in projections
                for generation in pointers[projection.name].active()
            ]

        return Projectors(self.event_store, load)

    def _signing_key(self) -> str:
        return self._secret("SIGNING_KEY_SECRET", minimum_length=32)

    def _secret(self, setting: str, *, minimum_length: int = 1) -> str:
        # Cached by Powertools for 5 minutes, so a rotated secret is picked up without a deploy.
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(self.setting(setting), max_age=300)
        if not isinstance(secret, str) or len(secret) < minimum_length:
            raise MissingSetting(
                f"the secret named by {setting} must be a string of {minimum_length}+ characters"
            )
        return secret


_current: Container | None = None


def container() -> Container:
    """The process's container, built from the environment on first use."""
    global _current
    if _current is None:
        _current = Container()
    return _current


def use(replacement: Container | None) -> None:
    """Swap the process's container (tests); None goes back to the environment's."""
    global _current
    _current = replacement
