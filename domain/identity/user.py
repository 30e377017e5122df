"""The User aggregate: the seed's entity, decided by events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.identity.credentials import check_password, normalize_email
from domain.identity.events import (
    PasswordChanged,
    RoleGranted,
    UserDeactivated,
    UserLoggedIn,
    UserRegistered,
)
from domain.identity.ports import PasswordHasher
from domain.shared.aggregate import Aggregate, applies
from domain.shared.context import Role
from domain.shared.errors import RuleViolation


@dataclass(frozen=True)
class UserState:
    email: str = ""
    password_hash: str = ""
    role: Role = Role.CUSTOMER
    is_active: bool = False
    created_at: datetime | None = None
    last_login: datetime | None = None
    credentials_version: int = 0
    """Counts password changes; an access token names the one it was issued under."""


class User(Aggregate[UserState]):
    stream_prefix = "user"
    state_type = UserState

    @classmethod
    def register(
        cls,
        user_id: str,
        email: str,
        password: str,
        hasher: PasswordHasher,
        now: datetime,
        role: Role = Role.CUSTOMER,
    ) -> User:
        email = normalize_email(email)
        check_password(password)
        user = cls.blank(user_id)
        user._record(UserRegistered(user_id, email, hasher.hash(password), role, now))
        return user

    def password_matches(self, password: str, hasher: PasswordHasher) -> bool:
        """The seed's `authenticate`: an inactive user never authenticates."""
        return self.state.is_active and hasher.verify(password, self.state.password_hash)

    def record_login(self, now: datetime) -> None:
        self._record(UserLoggedIn(now))

    def change_password(
        self, old_password: str, new_password: str, hasher: PasswordHasher, now: datetime
    ) -> None:
        if not hasher.verify(old_password, self.state.password_hash):
            raise RuleViolation(
                "The current password is not correct.", code="old_password_incorrect"
            )
        check_password(new_password, field="new_password")
        self._record(PasswordChanged(hasher.hash(new_password), now))

    def deactivate(self, by: str, now: datetime) -> None:
        if not self.state.is_active:
            raise RuleViolation("This user is already deactivated.", code="already_deactivated")
        if by == self.id:
            raise RuleViolation(
                "You cannot deactivate your own account; ask another admin.",
                code="cannot_deactivate_self",
            )
        self._record(UserDeactivated(by, now))

    def grant(self, role: Role, by: str) -> None:
        if self.state.role is not role:
            self._record(RoleGranted(role, by))

    @applies(UserRegistered)
    def _registered(self, state: UserState, event: UserRegistered) -> UserState:
        return replace(
            state,
            email=event.email,
            password_hash=event.password_hash,
            role=event.role,
            is_active=True,
            created_at=event.registered_at,
        )

    @applies(UserLoggedIn)
    def _logged_in(self, state: UserState, event: UserLoggedIn) -> UserState:
        return replace(state, last_login=event.logged_in_at)

    @applies(PasswordChanged)
    def _password_changed(self, state: UserState, event: PasswordChanged) -> UserState:
        return replace(
            state,
            password_hash=event.password_hash,
            credentials_version=state.credentials_version + 1,
        )

    @applies(UserDeactivated)
    def _deactivated(self, state: UserState, event: UserDeactivated) -> UserState:
        return replace(state, is_active=False)

    @applies(RoleGranted)
    def _role_granted(self, state: UserState, event: RoleGranted) -> UserState:
        return replace(state, role=event.role)
