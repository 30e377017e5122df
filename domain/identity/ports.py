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
