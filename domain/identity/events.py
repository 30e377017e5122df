"""What happens to a user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.access import Role
from event_sourcing.events import DomainEvent, registry


@registry.event
@dataclass(frozen=True)
class UserRegistered(DomainEvent):
    user_id: str
    email: str
    password_hash: str
    role: Role
    registered_at: datetime
    welcome: bool = False
    """A welcome email is due (self-registration); events recorded before it existed,
    and admins made by the operator, are not welcomed."""


@registry.event
@dataclass(frozen=True)
class UserLoggedIn(DomainEvent):
    logged_in_at: datetime


@registry.event
@dataclass(frozen=True)
class PasswordChanged(DomainEvent):
    password_hash: str
    changed_at: datetime


@registry.event
@dataclass(frozen=True)
class UserDeactivated(DomainEvent):
    deactivated_by: str
    deactivated_at: datetime


@registry.event
@dataclass(frozen=True)
class RoleGranted(DomainEvent):
    role: Role
    granted_by: str


@registry.event
@dataclass(frozen=True)
class WelcomeEmailSent(DomainEvent):
    message_id: str
    sent_at: datetime


@registry.event
@dataclass(frozen=True)
class PasswordResetRequested(DomainEvent):
    """A reset link is due. `reset_id` is random and not a secret by itself: the link's
    token is its keyed digest (`ResetTokens`), so neither the token nor anything it can be
    formed from without the server's key is stored."""

    reset_id: str
    requested_at: datetime
    expires_at: datetime


@registry.event
@dataclass(frozen=True)
class PasswordResetMailed(DomainEvent):
    reset_id: str
    message_id: str


@registry.event
@dataclass(frozen=True)
class PasswordReset(DomainEvent):
    """The password set through a reset link; like `PasswordChanged`, older tokens stop."""

    reset_id: str
    password_hash: str
    reset_at: datetime
