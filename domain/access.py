"""Who runs a command, and the ids that tie its events to the request that caused them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import Forbidden, Unauthenticated


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """An authenticated user, as the authorizer resolved it for this request."""

    user_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class CommandContext:
    """Travels with a command into the metadata of every event it records."""

    correlation_id: str
    causation_id: str
    caller: Caller | None = None

    @property
    def user_id(self) -> str | None:
        return self.caller.user_id if self.caller else None

    def require_caller(self) -> Caller:
        return require_caller(self.caller)

    def require_admin(self) -> Caller:
        return require_admin(self.caller)


def require_caller(caller: Caller | None) -> Caller:
    if caller is None:
        raise Unauthenticated("Sign in first: this needs a bearer access token.")
    return caller


def require_admin(caller: Caller | None) -> Caller:
    signed_in = require_caller(caller)
    if not signed_in.is_admin:
        raise Forbidden("Only an admin may do this.", code="admin_only")
    return signed_in
