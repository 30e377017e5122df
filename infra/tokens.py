"""Access tokens: JWTs signed with HS256 (pinned: `alg: none` and every other algorithm
are refused) under a key from Secrets Manager; and the tokens of password-reset links,
HMACs under a key of their own (RESET_KEY_SECRET)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt

from domain.errors import Unauthenticated
from domain.identity.ports import (
    AccessToken,
    Pseudonyms,
    ResetTokens,
    TokenClaims,
    TokenIssuer,
)
from event_sourcing.events import Clock

ALGORITHM = "HS256"
ISSUER = "eventshop"


class JwtTokenIssuer(TokenIssuer):
    def __init__(self, key: Callable[[], str], clock: Clock, ttl_seconds: int = 3600) -> None:
        self._key = key
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str, credentials_version: int) -> AccessToken:
        now = self.clock.now()
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "cv": credentials_version,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_seconds)).timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        return AccessToken(jwt.encode(claims, self._key(), algorithm=ALGORITHM), self.ttl_seconds)

    def receipt(self, token: str) -> str:
        # The JWT without its signature: header.claims, useless as a bearer token.
        header, claims, _signature = token.split(".")
        return f"{header}.{claims}"

    def reissue(self, receipt: str) -> str:
        # HS256 is deterministic: signing the same header and claims with the same key gives
        # the first token back, byte for byte.
        return f"{receipt}.{_hmac_b64url(self._key(), receipt)}"

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._key(),
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against the injected clock, not the host's.
                options={"require": ["iss", "sub", "cv", "iat", "exp"], "verify_exp": False},
            )
        except jwt.InvalidTokenError as invalid:
            raise Unauthenticated(
                "The access token is not valid.", code="token_invalid"
            ) from invalid
        if not isinstance(claims["cv"], int) or not isinstance(claims["exp"], int | float):
            raise Unauthenticated("The access token is not valid.", code="token_invalid")
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        if self.clock.now() >= expires_at:
            raise Unauthenticated(
                "The access token has expired: sign in again.", code="token_expired"
            )
        return TokenClaims(
            user_id=str(claims["sub"]),
            credentials_version=claims["cv"],
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=expires_at,
        )


class HmacResetTokens(ResetTokens):
    """`<user id>.<HMAC-SHA256(key, "password-reset:<user id>:<reset id>")>`: the reset id is
    stored, the token never is, and no one without the key can form it from the id. The
    label keeps these digests apart from the key's JWT signatures (a JWT's signing input
    holds no colon)."""

    _LABEL = "password-reset"

    def __init__(self, key: Callable[[], str]) -> None:
        self._key = key

    def token(self, user_id: str, reset_id: str) -> str:
        return f"{user_id}.{self._digest(user_id, reset_id)}"

    def user_of(self, token: str) -> str | None:
        user_id, dot, digest = token.rpartition(".")
        if not dot or not user_id or len(digest) != _DIGEST_LENGTH:
            return None
        return user_id

    def matches(self, token: str, user_id: str, reset_id: str) -> bool:
        return hmac.compare_digest(token.encode(), self.token(user_id, reset_id).encode())

    def _digest(self, user_id: str, reset_id: str) -> str:
        return _hmac_b64url(self._key(), f"{self._LABEL}:{user_id}:{reset_id}")


_DIGEST_LENGTH = 43  # 32 bytes, base64url without padding


def _hmac_b64url(key: str, message: str) -> str:
    """HMAC-SHA256 of `message` under `key`, base64url without padding (JWS's encoding)."""
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class HmacPseudonyms(Pseudonyms):
    """HMAC-SHA256 under a secret key, hex: the same value always has the same pseudonym,
    and nothing but the key's holder can tell which value one stands for."""

    def __init__(self, key: Callable[[], str]) -> None:
        self._key = key

    def of(self, value: str) -> str:
        return hmac.new(self._key().encode(), value.encode(), hashlib.sha256).hexdigest()
