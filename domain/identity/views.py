"""The identity read model: a profile per user, for GET /users/me."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.errors import NotFound
from domain.identity.user import (
    LAST_SIGN_IN,
    RoleGranted,
    User,
    UserDeactivated,
    UserErased,
    UserLoggedIn,
    UserRegistered,
)
from event_sourcing.events import DomainEvent, RecordedEvent, iso
from event_sourcing.projector import Projection
from event_sourcing.views import Change, Delete, Doc, Put, ViewKey, ViewReader


def profile_key(user_id: str) -> ViewKey:
    return ViewKey(f"user#{user_id}", "profile")


class UserProfiles(Projection):
    """One document per user: {id, email, role, is_active, created_at, last_login, version}."""

    name = "users"
    version = 1
    streams = (f"{User.stream_prefix}-",)

    def apply(
        self, event: DomainEvent, recorded: RecordedEvent, views: ViewReader
    ) -> Sequence[Change]:
        # The profile's version is the one the user is answered and sends back in If-Match
        # (`visible_version`): a process's bookkeeping (an email sent, a reset asked for by
        # anyone) shows nothing here and moves nothing.
        if type(event).background:
            return []
        user_id = recorded.stream_id.removeprefix(f"{User.stream_prefix}-")
        key = profile_key(user_id)
        if isinstance(event, UserErased):  # the profile is the view's copy of their email
            return [Delete(key)]
        if isinstance(event, UserRegistered):
            doc: Doc = {
                "id": user_id,
                "email": event.email,
                "role": event.role.value,
                "is_active": True,
                "created_at": iso(event.registered_at),
                "last_login": None,
            }
        else:
            current = views.get(key)
            if current is None:
                return []
            doc = dict(current)
            if isinstance(event, UserLoggedIn):  # sign-ins recorded before they left the log
                doc["last_login"] = iso(event.logged_in_at)
            elif isinstance(event, UserDeactivated):
                doc["is_active"] = False
            elif isinstance(event, RoleGranted):
                doc["role"] = event.role.value
        doc["version"] = recorded.version
        return [Put(key, doc)]


def profile(views: ViewReader, user_id: str) -> Doc:
    doc = views.get(profile_key(user_id))
    if doc is None:
        raise NotFound("No profile for this user yet.", code="user_not_found")
    return doc


def with_last_sign_in(doc: Doc, notes: Mapping[str, str]) -> Doc:
    """The profile with the user's newest sign-in: noted beside the stream (`LAST_SIGN_IN`,
    outside the events: it moves no version), or, for a user who has not signed in since
    sign-ins left the event log, the last `UserLoggedIn` the view recorded."""
    noted, recorded = notes.get(LAST_SIGN_IN), doc.get("last_login")
    newest = max((t for t in (noted, recorded) if t is not None), default=None)
    return {**doc, "last_login": newest}
