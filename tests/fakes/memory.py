"""In-memory fakes of the shop's own ports (the kit's are in event_sourcing.testing.memory).
They subclass the ports, keep state, and pass the same contract tests as the adapters
(tests/contracts)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from domain.errors import Unauthenticated
from domain.identity.ports import (
    AccessToken,
    AttemptCounter,
    PasswordHasher,
    TokenClaims,
    TokenIssuer,
)
from event_sourcing.events import Clock


class FakeHasher(PasswordHasher):
    """Reversible-looking but salted and checked; counts calls to prove timing parity."""

    def __init__(self) -> None:
        self.verifications = 0

    def hash(self, password: str) -> str:
        salt = secrets.token_hex(4)
        return f"fake${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    def verify(self, password: str, hashed: str) -> bool:
        self.verifications += 1
        _, salt, digest = hashed.split("$")
        candidate = hashlib.sha256((salt + password).encode()).hexdigest()
        return hmac.compare_digest(candidate, digest)

    def verify_nothing(self, password: str) -> None:
        self.verify(password, self.hash("decoy password, never anyone's"))


class FakeTokenIssuer(TokenIssuer):
    """Opaque random tokens remembered in a dict, expiring by the given clock."""

    def __init__(self, clock: Clock, ttl_seconds: int = 3600) -> None:
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self.issued: dict[str, TokenClaims] = {}

    def issue(self, user_id: str, credentials_version: int) -> AccessToken:
        now = self.clock.now()
        token = secrets.token_urlsafe(24)
        self.issued[token] = TokenClaims(
            user_id, credentials_version, now, now + timedelta(seconds=self.ttl_seconds)
        )
        return AccessToken(token, self.ttl_seconds)

    def receipt(self, token: str) -> str:
        return "receipt:" + hashlib.sha256(token.encode()).hexdigest()

    def reissue(self, receipt: str) -> str:
        for token in self.issued:
            if self.receipt(token) == receipt:
                return token
        raise Unauthenticated("No token was issued for this receipt.", code="token_invalid")

    def verify(self, token: str) -> TokenClaims:
        claims = self.issued.get(token)
        if claims is None:
            raise Unauthenticated("The access token is not valid.", code="token_invalid")
        if self.clock.now() >= claims.expires_at:
            raise Unauthenticated("The access token has expired.", code="token_expired")
        return claims


class InMemoryAttemptCounter(AttemptCounter):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._counts: dict[str, tuple[int, datetime]] = {}

    def count(self, key: str) -> int:
        count, expires = self._counts.get(key, (0, self.clock.now()))
        return count if expires > self.clock.now() else 0

    def increment(self, key: str, *, ttl_seconds: int) -> int:
        count = self.count(key) + 1
        previous = self._counts.get(key)
        expires = (
            previous[1]
            if previous and previous[1] > self.clock.now()
            else self.clock.now() + timedelta(seconds=ttl_seconds)
        )
        self._counts[key] = (count, expires)
        return count

    def reset(self, key: str) -> None:
        self._counts.pop(key, None)
