"""Identity use cases end to end on the fakes: register, sign in, tokens, refusals."""

from __future__ import annotations

import dataclasses

import pytest

from domain.access import Caller, CommandContext, Role
from domain.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthenticated
from domain.identity import service as identity
from domain.identity.commands import (
    ChangePassword,
    Deactivate,
    EraseUser,
    IssueToken,
    Register,
    RequestPasswordReset,
)
from domain.identity.credentials import email_key
from domain.identity.service import (
    EMAIL_CLAIM,
    MAX_FAILED_LOGINS,
    MAX_FAILED_LOGINS_PER_SOURCE,
)
from domain.identity.user import LAST_SIGN_IN, User
from event_sourcing.errors import VersionMismatch
from event_sourcing.events import iso
from event_sourcing.guards import Claim
from event_sourcing.testing.builders import tails_read
from tests.fakes.container import InMemoryContainer
from tests.fakes.memory import FakeHasher

ANON = CommandContext("corr", "cause")


def erase(fakes: InMemoryContainer, command: EraseUser, context: CommandContext) -> User:
    return identity.erase(
        fakes.repository,
        fakes.hasher,
        fakes.failed_logins,
        fakes.pseudonyms,
        fakes.personal_data.erase,
        command,
        context,
    )


def registered(fakes: InMemoryContainer, email: str, password: str) -> User:
    """A customer registered on the fakes, by nobody signed in."""
    return identity.register(
        fakes.repository, fakes.hasher, fakes.pseudonyms, Register(email, password), ANON
    )


def as_caller(caller: Caller) -> CommandContext:
    return CommandContext("corr", "cause", caller)


def signed_in(
    fakes: InMemoryContainer, email: str, password: str, source: str = "198.51.100.7"
) -> str:
    return identity.issue_token(
        fakes.repository,
        fakes.hasher,
        fakes.tokens,
        fakes.failed_logins,
        fakes.pseudonyms,
        IssueToken(email, password, source),
        ANON,
    ).token.value


def test_register_then_sign_in_gives_a_token_for_that_user(fakes: InMemoryContainer) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    token = signed_in(fakes, "ADA@example.com", "correct horse")
    assert identity.authenticate(fakes.repository, fakes.tokens, token) == Caller(
        user.id, Role.CUSTOMER
    )


def test_an_email_registers_once_whatever_its_case(fakes: InMemoryContainer) -> None:
    registered(fakes, "ada@example.com", "correct horse")
    with pytest.raises(Conflict) as taken:
        registered(fakes, "ADA@Example.com", "another one")
    assert taken.value.code == "email_taken"


def test_wrong_password_and_unknown_email_get_one_answer(fakes: InMemoryContainer) -> None:
    registered(fakes, "ada@example.com", "correct horse")
    with pytest.raises(Unauthenticated) as wrong:
        signed_in(fakes, "ada@example.com", "wrong password")
    with pytest.raises(Unauthenticated) as unknown:
        signed_in(fakes, "bob@example.com", "whatever pass")
    assert (wrong.value.code, wrong.value.message) == (unknown.value.code, unknown.value.message)


def test_an_unknown_email_costs_one_password_verification(fakes: InMemoryContainer) -> None:
    hasher = fakes.hasher
    assert isinstance(hasher, FakeHasher)
    with pytest.raises(Unauthenticated):
        signed_in(fakes, "nobody@example.com", "whatever pass")
    assert hasher.verifications == 1


def test_another_addresss_failures_do_not_lock_the_owner_out(fakes: InMemoryContainer) -> None:
    registered(fakes, "ada@example.com", "correct horse")
    for _ in range(MAX_FAILED_LOGINS + 3):
        with pytest.raises((Unauthenticated, TooManyAttempts)):
            signed_in(fakes, "ada@example.com", "guess", source="203.0.113.66")

    assert signed_in(fakes, "ada@example.com", "correct horse", source="198.51.100.7")
    with pytest.raises(TooManyAttempts):
        signed_in(fakes, "ada@example.com", "correct horse", source="203.0.113.66")


def test_one_address_failing_over_many_emails_is_refused_for_a_while(
    fakes: InMemoryContainer,
) -> None:
    for n in range(MAX_FAILED_LOGINS_PER_SOURCE):
        with pytest.raises(Unauthenticated):
            signed_in(fakes, f"user{n}@example.com", "guess", source="203.0.113.66")
    registered(fakes, "ada@example.com", "correct horse")

    with pytest.raises(TooManyAttempts, match="from this address"):
        signed_in(fakes, "ada@example.com", "correct horse", source="203.0.113.66")
    assert signed_in(fakes, "ada@example.com", "correct horse", source="198.51.100.7")


def test_repeated_failures_for_one_email_are_refused_for_a_while(fakes: InMemoryContainer) -> None:
    registered(fakes, "ada@example.com", "correct horse")
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(Unauthenticated):
            signed_in(fakes, "ada@example.com", "wrong password")
    with pytest.raises(TooManyAttempts) as throttled:
        signed_in(fakes, "ada@example.com", "correct horse")
    assert throttled.value.retry_after_seconds > 0
    fakes.manual_clock.advance(throttled.value.retry_after_seconds)
    assert signed_in(fakes, "ada@example.com", "correct horse")


def test_a_sign_in_is_no_event_of_the_user_and_keeps_its_version(fakes: InMemoryContainer) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    fakes.manual_clock.advance(60)
    issued = identity.issue_token(
        fakes.repository,
        fakes.hasher,
        fakes.tokens,
        fakes.failed_logins,
        fakes.pseudonyms,
        IssueToken("ada@example.com", "correct horse", "x"),
        ANON,
    )
    history = fakes.repository.history(User, user.id)
    assert [e.type for e in history] == ["UserRegistered"]
    assert issued.user.version == user.version == 1  # the answer's version: the user's own
    noted = fakes.repository.notes(User, user.id)
    assert noted == {LAST_SIGN_IN: iso(fakes.manual_clock.now())}
    # an If-Match taken at registration still holds after signing in
    caller = as_caller(Caller(user.id, Role.CUSTOMER))
    changed = identity.change_password(
        fakes.repository, fakes.hasher, ChangePassword("correct horse", "battery staple"), caller, 1
    )
    assert changed.version == 2


def test_a_failed_sign_in_notes_nothing(fakes: InMemoryContainer) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    with pytest.raises(Unauthenticated):
        signed_in(fakes, "ada@example.com", "wrong password")
    assert fakes.repository.notes(User, user.id) == {}


def test_the_authorizer_reads_the_published_standing_not_the_stream(
    fakes: InMemoryContainer,
) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    token = signed_in(fakes, "ada@example.com", "correct horse")
    assert fakes.repository.published(User, user.id) == {
        "active": True,
        "role": "customer",
        "credentials_version": 0,
    }
    loads = tails_read(fakes.event_store)
    assert identity.authenticate(fakes.repository, fakes.tokens, token) == Caller(
        user.id, Role.CUSTOMER
    )
    assert loads == []


def previous_release_user(
    fakes: InMemoryContainer, email: str, password: str, role: Role = Role.CUSTOMER
) -> User:
    """A user as the previous release stored it: its events and its email claim, and no
    published state (neither the item nor the state recorded with its events)."""
    user = User.register(fakes.ids.new_id(), email, password, fakes.hasher, fakes.clock.now(), role)
    append = fakes.repository._append_of(user, ANON)
    assert append.publish  # what this release would write...
    old = dataclasses.replace(append, published=None, publish=False)  # ...and that did not
    claim = Claim(EMAIL_CLAIM, email_key(email), user.stream_id)
    fakes.event_store.append(old, claims=[claim])
    assert fakes.repository.published(User, user.id) is None
    return fakes.repository.load(User, user.id)


def test_users_of_the_previous_release_authenticate_and_are_revoked(
    fakes: InMemoryContainer,
) -> None:
    ada = previous_release_user(fakes, "ada@example.com", "correct horse")
    root = previous_release_user(fakes, "root@example.com", "admin password", Role.ADMIN)
    token = signed_in(fakes, "ada@example.com", "correct horse")
    admin_token = signed_in(fakes, "root@example.com", "admin password")
    assert identity.authenticate(fakes.repository, fakes.tokens, token) == Caller(
        ada.id, Role.CUSTOMER
    )  # from the stream
    admin = identity.authenticate(fakes.repository, fakes.tokens, admin_token)
    assert admin == Caller(root.id, Role.ADMIN)
    assert fakes.repository.published(User, ada.id) is None  # a sign-in publishes nothing

    # The first command on such a user writes its standing, with its event.
    caller = as_caller(Caller(ada.id, Role.CUSTOMER))
    identity.change_password(
        fakes.repository, fakes.hasher, ChangePassword("correct horse", "battery staple"), caller
    )
    assert fakes.repository.published(User, ada.id) == {
        "active": True,
        "role": "customer",
        "credentials_version": 1,
    }
    with pytest.raises(Unauthenticated) as revoked:
        identity.authenticate(fakes.repository, fakes.tokens, token)
    assert revoked.value.code == "token_revoked"
    token = signed_in(fakes, "ada@example.com", "battery staple")
    assert identity.authenticate(fakes.repository, fakes.tokens, token) == Caller(
        ada.id, Role.CUSTOMER
    )

    identity.deactivate(fakes.repository, Deactivate(ada.id), as_caller(admin))
    with pytest.raises(Unauthenticated) as refused:
        identity.authenticate(fakes.repository, fakes.tokens, token)
    assert refused.value.code == "user_deactivated"
    assert fakes.repository.published(User, ada.id) == {
        "active": False,
        "role": "customer",
        "credentials_version": 1,
    }


def test_a_command_that_changes_no_standing_still_publishes_a_previous_release_user(
    fakes: InMemoryContainer,
) -> None:
    ada = previous_release_user(fakes, "ada@example.com", "correct horse")
    identity.request_password_reset(
        fakes.repository,
        fakes.failed_logins,
        fakes.pseudonyms,
        RequestPasswordReset("ada@example.com", "x"),
        ANON,
    )
    assert fakes.repository.load(User, ada.id).version == 2
    assert fakes.repository.published(User, ada.id) == {
        "active": True,
        "role": "customer",
        "credentials_version": 0,
    }


def test_a_previous_release_user_deactivated_by_the_previous_release_is_refused(
    fakes: InMemoryContainer,
) -> None:
    ada = previous_release_user(fakes, "ada@example.com", "correct horse")
    token = signed_in(fakes, "ada@example.com", "correct horse")
    ada.deactivate("root", fakes.clock.now())
    old = dataclasses.replace(fakes.repository._append_of(ada, ANON), published=None, publish=False)
    fakes.event_store.append(old)
    with pytest.raises(Unauthenticated) as refused:
        identity.authenticate(fakes.repository, fakes.tokens, token)
    assert refused.value.code == "user_deactivated"


def test_a_published_standing_of_another_shape_reads_the_stream(fakes: InMemoryContainer) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    token = signed_in(fakes, "ada@example.com", "correct horse")
    store = fakes.event_store
    store.published = lambda stream_id: {"active": True}  # type: ignore[method-assign]
    assert identity.authenticate(fakes.repository, fakes.tokens, token) == Caller(
        user.id, Role.CUSTOMER
    )


def test_a_password_change_revokes_older_tokens_at_once(fakes: InMemoryContainer) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    old_token = signed_in(fakes, "ada@example.com", "correct horse")
    caller = identity.authenticate(fakes.repository, fakes.tokens, old_token)
    identity.change_password(
        fakes.repository,
        fakes.hasher,
        ChangePassword("correct horse", "battery staple"),
        as_caller(caller),
    )
    with pytest.raises(Unauthenticated) as revoked:
        identity.authenticate(fakes.repository, fakes.tokens, old_token)
    assert revoked.value.code == "token_revoked"
    new_token = signed_in(fakes, "ada@example.com", "battery staple")
    assert identity.authenticate(fakes.repository, fakes.tokens, new_token).user_id == user.id


def test_only_an_admin_deactivates_and_the_users_tokens_stop_working(
    fakes: InMemoryContainer,
) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    token = signed_in(fakes, "ada@example.com", "correct horse")
    customer = identity.authenticate(fakes.repository, fakes.tokens, token)
    with pytest.raises(Forbidden):
        identity.deactivate(fakes.repository, Deactivate(user.id), as_caller(customer))
    admin = identity.register(
        fakes.repository,
        fakes.hasher,
        fakes.pseudonyms,
        Register("root@example.com", "admin password"),
        ANON,
        role=Role.ADMIN,
    )
    identity.deactivate(
        fakes.repository, Deactivate(user.id), as_caller(Caller(admin.id, Role.ADMIN))
    )
    with pytest.raises(Unauthenticated) as refused:
        identity.authenticate(fakes.repository, fakes.tokens, token)
    assert refused.value.code == "user_deactivated"
    with pytest.raises(Unauthenticated):
        signed_in(fakes, "ada@example.com", "correct horse")


def test_deactivating_nobody_is_not_found(fakes: InMemoryContainer) -> None:
    with pytest.raises(NotFound):
        identity.deactivate(
            fakes.repository, Deactivate("ghost"), as_caller(Caller("admin", Role.ADMIN))
        )


def test_a_stale_if_match_is_a_version_mismatch(fakes: InMemoryContainer) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    caller = as_caller(Caller(user.id, Role.CUSTOMER))
    with pytest.raises(VersionMismatch) as stale:
        identity.change_password(
            fakes.repository,
            fakes.hasher,
            ChangePassword("correct horse", "battery staple"),
            caller,
            7,
        )
    assert (stale.value.expected, stale.value.actual) == (7, 1)
    changed = identity.change_password(
        fakes.repository, fakes.hasher, ChangePassword("correct horse", "battery staple"), caller, 1
    )
    assert changed.version == 2


def test_ensure_admin_creates_once_and_promotes_an_existing_user(
    fakes: InMemoryContainer,
) -> None:
    first = identity.ensure_admin(
        fakes.repository, fakes.hasher, fakes.pseudonyms, "root@example.com", "admin password", ANON
    )
    again = identity.ensure_admin(
        fakes.repository, fakes.hasher, fakes.pseudonyms, "root@example.com", "admin password", ANON
    )
    assert first.id == again.id
    assert again.state.role is Role.ADMIN
    customer = registered(fakes, "ada@example.com", "correct horse")
    promoted = identity.ensure_admin(
        fakes.repository, fakes.hasher, fakes.pseudonyms, "ada@example.com", "ignored pass", ANON
    )
    assert promoted.id == customer.id
    assert promoted.state.role is Role.ADMIN


def test_a_token_for_a_user_that_does_not_exist_is_refused(fakes: InMemoryContainer) -> None:
    token = fakes.tokens.issue("ghost", 0).value
    with pytest.raises(Unauthenticated):
        identity.authenticate(fakes.repository, fakes.tokens, token)


def test_a_customer_erases_themself_with_their_password_and_everything_personal_goes(
    fakes: InMemoryContainer,
) -> None:
    user = registered(fakes, "ada@example.com", "correct horse")
    token = signed_in(fakes, "ada@example.com", "correct horse")
    identity.request_password_reset(
        fakes.repository,
        fakes.failed_logins,
        fakes.pseudonyms,
        RequestPasswordReset("ada@example.com", "198.51.100.7"),
        ANON,
    )
    me = as_caller(Caller(user.id, Role.CUSTOMER))
    with pytest.raises(Unauthenticated):
        erase(fakes, EraseUser(user.id, "not my password"), me)

    erased = erase(fakes, EraseUser(user.id, "correct horse"), me)

    assert erased.state.erased
    assert erased.version == user.version + 2  # the reset request, then the erasure
    with pytest.raises(Unauthenticated):
        identity.authenticate(fakes.repository, fakes.tokens, token)
    with pytest.raises(Unauthenticated):
        signed_in(fakes, "ada@example.com", "correct horse")
    assert fakes.data_keys.get(user.id) is None  # every sealed field is unreadable
    email = fakes.pseudonyms.of(email_key("ada@example.com"))
    assert (
        fakes.failed_logins.count(f"reset#email#{email}#{identity._window(fakes.repository)}") == 0
    )
    again = registered(fakes, "ada@example.com", "a new life")
    assert again.id != user.id


def test_an_admin_erases_anyone_a_customer_only_themself_and_again_is_harmless(
    fakes: InMemoryContainer,
) -> None:
    ada = registered(fakes, "ada@example.com", "correct horse")
    bob = registered(fakes, "bob@example.com", "battery staple")
    with pytest.raises(Forbidden):
        erase(fakes, EraseUser(ada.id, "battery staple"), as_caller(Caller(bob.id, Role.CUSTOMER)))
    admin = as_caller(Caller("root", Role.ADMIN))
    first = erase(fakes, EraseUser(ada.id), admin)
    again = erase(fakes, EraseUser(ada.id), admin)
    assert again.version == first.version
    with pytest.raises(Forbidden):  # without a password, only an admin erases, themself too
        erase(fakes, EraseUser(bob.id), as_caller(Caller(bob.id, Role.CUSTOMER)))
    root = registered(fakes, "root@example.com", "admin's own")
    themself = erase(fakes, EraseUser(root.id), as_caller(Caller(root.id, Role.ADMIN)))
    assert themself.state.erased
    with pytest.raises(NotFound):
        erase(fakes, EraseUser("ghost"), admin)


def test_sign_in_counters_name_an_address_only_with_its_source(fakes: InMemoryContainer) -> None:
    with pytest.raises(Unauthenticated):
        signed_in(fakes, "ada@example.com", "wrong password")
    email = fakes.pseudonyms.of(email_key("ada@example.com"))
    counters = fakes.failed_logins._counts  # type: ignore[attr-defined]
    assert counters
    assert not any(email in key for key in counters)
