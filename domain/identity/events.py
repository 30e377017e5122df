"""What happens to a user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.shared.context import Role
from domain.shared.events import DomainEvent, registry


@registry.event
@dataclass(frozen=True)
class UserRegistered(DomainEvent):
    user_id: str
    email: str
    password_hash: str
    role: Role
    registered_at: datetime


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
