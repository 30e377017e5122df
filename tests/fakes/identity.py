"""In-memory fakes of identity's mail and reset-token ports."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
from dataclasses import dataclass
from datetime import datetime

from domain.identity.ports import Mailer, ResetTokens


@dataclass(frozen=True)
class Mailed:
    idempotency_key: str
    message_id: str
    kind: str
    to: str
    link: str | None = None
    expires_at: datetime | None = None


class FakeMailer(Mailer):
    """Records every email in `sent`; the same key mails nothing twice. `fail_next()`
    makes the next send fail before it is made, or after (`after_effect`: the answer is
    lost, the email is out)."""

    def __init__(self) -> None:
        self.sent: list[Mailed] = []
        self.calls = 0
        self._by_key: dict[str, Mailed] = {}
        self._ids = itertools.count(1)
        self._failures: list[bool] = []
        self._lock = threading.Lock()

    def fail_next(self, *, after_effect: bool = False) -> None:
        self._failures.append(after_effect)

    def welcome(self, *, idempotency_key: str, to: str) -> str:
        return self._send(idempotency_key, "welcome", to)

    def password_reset(
        self, *, idempotency_key: str, to: str, link: str, expires_at: datetime
    ) -> str:
        return self._send(idempotency_key, "reset", to, link, expires_at)

    def to(self, address: str, kind: str | None = None) -> list[Mailed]:
        return [m for m in self.sent if m.to == address and kind in (None, m.kind)]

    def _send(
        self,
        key: str,
        kind: str,
        to: str,
        link: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        with self._lock:
            self.calls += 1
            after_effect = self._failures.pop(0) if self._failures else None
            if after_effect is False:
                raise ConnectionError("the mail server is down (injected)")
            mailed = self._by_key.get(key)
            if mailed is None:
                mailed = Mailed(key, f"mail_{next(self._ids):06d}", kind, to, link, expires_at)
                self._by_key[key] = mailed
                self.sent.append(mailed)
            if after_effect:
                raise ConnectionError("the mail server's answer was lost (injected)")
            return mailed.message_id


class FakeResetTokens(ResetTokens):
    """`<user>.<digest of user and reset under a fixed key>`: as the real one, keyed."""

    def __init__(self, key: bytes = b"fake reset key") -> None:
        self._key = key

    def token(self, user_id: str, reset_id: str) -> str:
        digest = hmac.new(self._key, f"{user_id}|{reset_id}".encode(), hashlib.sha256)
        return f"{user_id}.{digest.hexdigest()}"

    def user_of(self, token: str) -> str | None:
        user_id, dot, digest = token.rpartition(".")
        return user_id if dot and user_id and len(digest) == 64 else None

    def matches(self, token: str, user_id: str, reset_id: str) -> bool:
        return hmac.compare_digest(token, self.token(user_id, reset_id))
