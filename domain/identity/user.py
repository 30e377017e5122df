"""The User aggregate: the seed's entity, decided by events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from domain.access import Role
from domain.errors import RuleViolation
from domain.identity.credentials import check_password, normalize_email
from domain.identity.ports import PasswordHasher
from event_sourcing.events import DomainEvent, registry
from event_sourcing.repository import Aggregate, Publishes, applies

RESET_LINK_LIFETIME = timedelta(minutes=30)
RESET_LINK_REPLACED_AFTER = timedelta(minutes=5)
"""A request sooner than this after the pending link's records nothing: requests from
anywhere cannot keep voiding the owner's link, nor flood their mailbox."""
INVALID_RESET = (
    "This reset link does not work: it was used, it expired, a newer one was sent or the "
    "password changed since. Ask for a new one at POST /auth/password-reset."
)


class Mail(StrEnum):
    """The emails a user is sent, one step each of the user-mail process."""

    WELCOME = "welcome"
    RESET_LINK = "reset_link"


# -- Events: what a `user-<id>` stream records. Stored events name these classes and
# fields (the registry maps type names to classes): change them only with a new
# `schema_version` and an upcaster.


@registry.event
@dataclass(frozen=True)
class UserRegistered(DomainEvent):
    personal: ClassVar[tuple[str, ...]] = ("email", "password_hash")
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
    """Recorded by sign-ins before they left the event log (a sign-in is not a change of
    the user: it is kept as the note `LAST_SIGN_IN` now). Older streams hold it; nothing
    records it any more."""

    logged_in_at: datetime


@registry.event
@dataclass(frozen=True)
class PasswordChanged(DomainEvent):
    personal: ClassVar[tuple[str, ...]] = ("password_hash",)
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
    """The user-mail process's note that the welcome went out: no change of the user's."""

    background: ClassVar[bool] = True
    message_id: str
    sent_at: datetime


@registry.event
@dataclass(frozen=True)
class PasswordResetRequested(DomainEvent):
    """A reset link is due. `reset_id` is random and not a secret by itself: the link's
    token is its keyed digest (`ResetTokens`), so neither the token nor anything it can be
    formed from without the server's key is stored. Anyone may ask for one: it is no change
    of the user's own, so it leaves the version the user sees."""

    background: ClassVar[bool] = True
    reset_id: str
    requested_at: datetime
    expires_at: datetime


@registry.event
@dataclass(frozen=True)
class PasswordResetMailed(DomainEvent):
    background: ClassVar[bool] = True
    reset_id: str
    message_id: str


@registry.event
@dataclass(frozen=True)
class PasswordReset(DomainEvent):
    """The password set through a reset link; like `PasswordChanged`, older tokens stop."""

    personal: ClassVar[tuple[str, ...]] = ("password_hash",)
    reset_id: str
    password_hash: str
    reset_at: datetime


@registry.event
@dataclass(frozen=True)
class UserErased(DomainEvent):
    """The user is forgotten (their own request, or an admin's): their data key is
    destroyed next, so every personal field of their events reads as erased from then on;
    the events stay, and so do their versions."""

    erased_by: str
    erased_at: datetime


# -- State, decisions and evolution


@dataclass(frozen=True)
class PendingReset:
    reset_id: str
    expires_at: datetime
    mailed: bool = False


@dataclass(frozen=True)
class UserState:
    personal: ClassVar[tuple[str, ...]] = ("email", "password_hash")
    email: str = ""
    password_hash: str = ""
    role: Role = Role.CUSTOMER
    is_active: bool = False
    created_at: datetime | None = None
    last_login: datetime | None = None
    credentials_version: int = 0
    """Counts password changes; an access token names the one it was issued under."""
    welcome_due: bool = False
    pending_reset: PendingReset | None = None
    """The one reset link that works: a newer request, any password change, or its
    use ends it."""
    erased: bool = False


LAST_SIGN_IN = "last_login"
"""The note (beside the user's stream, outside its events) of the newest sign-in's time."""


@dataclass(frozen=True)
class Standing:
    """What every request's authorizer checks of a user: the user's published state
    (small, no personal data), one read instead of a load of the stream."""

    active: bool
    role: Role
    credentials_version: int

    def as_doc(self) -> dict[str, object]:
        return {
            "active": self.active,
            "role": self.role.value,
            "credentials_version": self.credentials_version,
        }

    @classmethod
    def of(cls, doc: Mapping[str, object]) -> Standing | None:
        """The standing a published state holds; None if it is not of this shape."""
        active, role, version = (doc.get(k) for k in ("active", "role", "credentials_version"))
        roles = {r.value for r in Role}
        if not isinstance(active, bool) or not isinstance(version, int) or role not in roles:
            return None
        return cls(active, Role(str(role)), version)


class User(Aggregate[UserState], Publishes):
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
        *,
        welcome: bool = False,
    ) -> User:
        email = normalize_email(email)
        check_password(password)
        user = cls.blank(user_id)
        user._record(
            UserRegistered(user_id, email, hasher.hash(password), role, now, welcome=welcome)
        )
        return user

    def password_matches(self, password: str, hasher: PasswordHasher) -> bool:
        """The seed's `authenticate`: an inactive user never authenticates."""
        return self.state.is_active and hasher.verify(password, self.state.password_hash)

    @property
    def standing(self) -> Standing:
        return Standing(self.state.is_active, self.state.role, self.state.credentials_version)

    def published(self) -> Mapping[str, object]:
        return self.standing.as_doc()

    def change_password(
        self, old_password: str, new_password: str, hasher: PasswordHasher, now: datetime
    ) -> None:
        if not hasher.verify(old_password, self.state.password_hash):
            raise RuleViolation(
                "The current password is not correct.", code="old_password_incorrect"
            )
        check_password(new_password, field="new_password")
        self._record(PasswordChanged(hasher.hash(new_password), now))

    def request_password_reset(self, reset_id: str, now: datetime) -> None:
        """A link for an active user, replacing the pending one unless that one is fresh;
        an inactive user gets nothing (and the caller is told nothing)."""
        pending = self.state.pending_reset
        requested_at = pending.expires_at - RESET_LINK_LIFETIME if pending else None
        if requested_at is not None and now < requested_at + RESET_LINK_REPLACED_AFTER:
            return
        if self.state.is_active:
            self._record(PasswordResetRequested(reset_id, now, now + RESET_LINK_LIFETIME))

    def reset_token_works(self, token_matches: Callable[[str], bool], now: datetime) -> bool:
        """Whether a token (`token_matches(reset_id)`) is the pending link's, in its life."""
        pending = self.state.pending_reset
        return (
            self.state.is_active
            and pending is not None
            and now < pending.expires_at
            and token_matches(pending.reset_id)
        )

    def reset_password(
        self,
        token_matches: Callable[[str], bool],
        new_password: str,
        hasher: PasswordHasher,
        now: datetime,
    ) -> None:
        """The seed's password reset: the pending link's token, once, within its life."""
        pending = self.state.pending_reset
        if pending is None or not self.reset_token_works(token_matches, now):
            raise RuleViolation(INVALID_RESET, code="reset_token_invalid")
        check_password(new_password, field="new_password")
        self._record(PasswordReset(pending.reset_id, hasher.hash(new_password), now))

    def next_mail(self, now: datetime) -> Mail | None:
        """The email this user is due, if any: what the user-mail process sends next."""
        if self.state.welcome_due and self.state.is_active:
            return Mail.WELCOME
        pending = self.state.pending_reset
        if pending and not pending.mailed and self.state.is_active and now < pending.expires_at:
            return Mail.RESET_LINK
        return None

    def record_welcome(self, message_id: str, now: datetime) -> None:
        self._record(WelcomeEmailSent(message_id, now))

    def record_reset_mailed(self, reset_id: str, message_id: str) -> None:
        self._record(PasswordResetMailed(reset_id, message_id))

    def deactivate(self, by: str, now: datetime) -> None:
        if not self.state.is_active:
            raise RuleViolation("This user is already deactivated.", code="already_deactivated")
        if by == self.id:
            raise RuleViolation(
                "You cannot deactivate your own account; ask another admin.",
                code="cannot_deactivate_self",
            )
        self._record(UserDeactivated(by, now))

    def erase(self, by: str, now: datetime) -> None:
        """Forget the user: no sign-in, no token, nothing mailed from now on. Erasing an
        erased user again changes nothing (a retried erasure destroys the key again)."""
        if not self.state.erased:
            self._record(UserErased(by, now))

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
            welcome_due=event.welcome,
        )

    @applies(UserLoggedIn)
    def _logged_in(self, state: UserState, event: UserLoggedIn) -> UserState:
        return replace(state, last_login=event.logged_in_at)

    @applies(PasswordChanged)
    def _password_changed(self, state: UserState, event: PasswordChanged) -> UserState:
        return _new_password(state, event.password_hash)

    @applies(PasswordReset)
    def _password_reset(self, state: UserState, event: PasswordReset) -> UserState:
        return _new_password(state, event.password_hash)

    @applies(WelcomeEmailSent)
    def _welcomed(self, state: UserState, event: WelcomeEmailSent) -> UserState:
        return replace(state, welcome_due=False)

    @applies(PasswordResetRequested)
    def _reset_requested(self, state: UserState, event: PasswordResetRequested) -> UserState:
        return replace(state, pending_reset=PendingReset(event.reset_id, event.expires_at))

    @applies(PasswordResetMailed)
    def _reset_mailed(self, state: UserState, event: PasswordResetMailed) -> UserState:
        pending = state.pending_reset
        if pending is None or pending.reset_id != event.reset_id:
            return state
        return replace(state, pending_reset=replace(pending, mailed=True))

    @applies(UserDeactivated)
    def _deactivated(self, state: UserState, event: UserDeactivated) -> UserState:
        return replace(state, is_active=False)

    @applies(UserErased)
    def _erased(self, state: UserState, event: UserErased) -> UserState:
        return replace(
            state,
            email="",
            password_hash="",
            is_active=False,
            erased=True,
            credentials_version=state.credentials_version + 1,
            welcome_due=False,
            pending_reset=None,
        )

    @applies(RoleGranted)
    def _role_granted(self, state: UserState, event: RoleGranted) -> UserState:
        return replace(state, role=event.role)


def _new_password(state: UserState, password_hash: str) -> UserState:
    """Any new password: older tokens stop (credentials version) and so does a pending link."""
    return replace(
        state,
        password_hash=password_hash,
        credentials_version=state.credentials_version + 1,
        pending_reset=None,
    )
