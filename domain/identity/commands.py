"""The identity commands, as the edge hands them to the core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Register:
    email: str
    password: str


@dataclass(frozen=True)
class IssueToken:
    email: str
    password: str
    source: str = ""
    """The network address the attempt comes from: failures are counted per (email,
    source) and per source, so another address's failures never lock the owner out."""


@dataclass(frozen=True)
class ChangePassword:
    old_password: str
    new_password: str


@dataclass(frozen=True)
class Deactivate:
    user_id: str


@dataclass(frozen=True)
class RequestPasswordReset:
    email: str
    source: str = ""
    """As for `IssueToken`: requests are counted per (email, source) and per source."""


@dataclass(frozen=True)
class ResetPassword:
    token: str
    new_password: str


@dataclass(frozen=True)
class EraseUser:
    """Forget a user: the customer themself, with their password, or an admin, without."""

    user_id: str
    password: str | None = None
