"""What identity needs from outside: hashing, signed tokens, counting failed attempts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime


class PasswordHasher(ABC):
    @abstractmethod
    def hash(self, password: str) -> str:
        """A salted, slow hash of `password`."""

    @abstractmethod
    def verify(self, password: str, hashed: str) -> bool: ...

    @abstractmethod
    def verify_nothing(self, password: str) -> None:
        """Spend the time of one `verify`, for an account that does not exist, so that
        an unknown email costs what a wrong password costs."""


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    credentials_version: int
    issued_at: datetime
    expires_at: datetime


class TokenIssuer(ABC):
    @abstractmethod
    def issue(self, user_id: str, credentials_version: int) -> AccessToken: ...

    @abstractmethod
    def verify(self, token: str) -> TokenClaims:
        """The claims of a token this issuer signed and that has not expired; raises
        `Unauthenticated` (code `token_expired` or `token_invalid`) otherwise."""

    @abstractmethod
    def receipt(self, token: str) -> str:
        """What may be kept of a token to give it again (a replayed sign-in): enough to
        sign it anew, but no token itself."""

    @abstractmethod
    def reissue(self, receipt: str) -> str:
        """The token `receipt` was taken from, signed again: the same string while the key
        is the same, so it stops working exactly when the first one does."""


class AttemptCounter(ABC):
    """Counts events (failed logins) per key for a while."""

    @abstractmethod
    def count(self, key: str) -> int: ...

    @abstractmethod
    def increment(self, key: str, *, ttl_seconds: int) -> int:
        """Add one and return the new count; the count is forgotten after `ttl_seconds`."""

    @abstractmethod
    def reset(self, key: str) -> None: ...


class Pseudonyms(ABC):
    """A keyed hash (HMAC) of what identifies a person (an email, a network address): what
    unique claims and throttle counters are keyed by, so no table holds the value itself.
    The key never changes: a claim is found again only under the same pseudonym."""

    @abstractmethod
    def of(self, value: str) -> str: ...


class ResetTokens(ABC):
    """The tokens of password-reset links: a keyed digest of the reset's id, so what is
    stored (the id) gives no token to someone without the key."""

    @abstractmethod
    def token(self, user_id: str, reset_id: str) -> str:
        """The token of this user's reset: the same for the same reset."""

    @abstractmethod
    def user_of(self, token: str) -> str | None:
        """The user a token names, if it is of the form `token` makes; proves nothing."""

    @abstractmethod
    def matches(self, token: str, user_id: str, reset_id: str) -> bool:
        """Whether `token` is this reset's, compared in constant time."""


class Mailer(ABC):
    """The identity emails. A send names an idempotency key: sending again with it
    answers the first message's id and mails nothing."""

    @abstractmethod
    def welcome(self, *, idempotency_key: str, to: str) -> str:
        """The seed's `send_welcome_email`; answers the message's id."""

    @abstractmethod
    def password_reset(
        self, *, idempotency_key: str, to: str, link: str, expires_at: datetime
    ) -> str:
        """The seed's `send_password_reset_email`; answers the message's id. The link is a
        secret: it is never logged."""
