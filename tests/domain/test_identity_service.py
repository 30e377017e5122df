"""Identity use cases end to end on the fakes: register, sign in, tokens, refusals."""

from __future__ import annotations

import pytest

from domain.access import Caller, CommandContext, Role
from domain.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthenticated
from domain.identity.commands import ChangePassword, Deactivate, IssueToken, Register
from domain.identity.service import (
    MAX_FAILED_LOGINS,
    MAX_FAILED_LOGINS_PER_SOURCE,
    IdentityService,
)
from domain.identity.user import User
from event_sourcing.errors import VersionMismatch
from tests.fakes.container import InMemoryContainer
from tests.fakes.memory import FakeHasher

ANON = CommandContext("corr", "cause")


@pytest.fixture
def service(fakes: InMemoryContainer) -> IdentityService:
    return fakes.identity


def as_caller(caller: Caller) -> CommandContext:
    return CommandContext("corr", "cause", caller)


def signed_in(
    service: IdentityService, email: str, password: str, source: str = "198.51.100.7"
) -> str:
    return service.issue_token(IssueToken(email, password, source), ANON).token.value


def test_register_then_sign_in_gives_a_token_for_that_user(service: IdentityService) -> None:
    user = service.register(Register("ada@example.com", "correct horse"), ANON)
    token = signed_in(service, "ADA@example.com", "correct horse")
    assert service.authenticate(token) == Caller(user.id, Role.CUSTOMER)


def test_an_email_registers_once_whatever_its_case(service: IdentityService) -> None:
    service.register(Register("ada@example.com", "correct horse"), ANON)
    with pytest.raises(Conflict) as taken:
        service.register(Register("ADA@Example.com", "another one"), ANON)
    assert taken.value.code == "email_taken"


def test_wrong_password_and_unknown_email_get_one_answer(service: IdentityService) -> None:
    service.register(Register("ada@example.com", "correct horse"), ANON)
    with pytest.raises(Unauthenticated) as wrong:
        signed_in(service, "ada@example.com", "wrong password")
    with pytest.raises(Unauthenticated) as unknown:
        signed_in(service, "bob@example.com", "whatever pass")
    assert (wrong.value.code, wrong.value.message) == (unknown.value.code, unknown.value.message)


def test_an_unknown_email_costs_one_password_verification(
    service: IdentityService, fakes: InMemoryContainer
) -> None:
    hasher = fakes.hasher
    assert isinstance(hasher, FakeHasher)
    with pytest.raises(Unauthenticated):
        signed_in(service, "nobody@example.com", "whatever pass")
    assert hasher.verifications == 1


def test_another_addresss_failures_do_not_lock_the_owner_out(service: IdentityService) -> None:
    service.register(Register("ada@example.com", "correct horse"), ANON)
    for _ in range(MAX_FAILED_LOGINS + 3):
        with pytest.raises((Unauthenticated, TooManyAttempts)):
            signed_in(service, "ada@example.com", "guess", source="203.0.113.66")

    assert signed_in(service, "ada@example.com", "correct horse", source="198.51.100.7")
    with pytest.raises(TooManyAttempts):
        signed_in(service, "ada@example.com", "correct horse", source="203.0.113.66")


def test_one_address_failing_over_many_emails_is_refused_for_a_while(
    service: IdentityService,
) -> None:
    for n in range(MAX_FAILED_LOGINS_PER_SOURCE):
        with pytest.raises(Unauthenticated):
            signed_in(service, f"user{n}@example.com", "guess", source="203.0.113.66")
    service.register(Register("ada@example.com", "correct horse"), ANON)

    with pytest.raises(TooManyAttempts, match="from this address"):
        signed_in(service, "ada@example.com", "correct horse", source="203.0.113.66")
    assert signed_in(service, "ada@example.com", "correct horse", source="198.51.100.7")


def test_repeated_failures_for_one_email_are_refused_for_a_while(
    service: IdentityService, fakes: InMemoryContainer
) -> None:
    service.register(Register("ada@example.com", "correct horse"), ANON)
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(Unauthenticated):
            signed_in(service, "ada@example.com", "wrong password")
    with pytest.raises(TooManyAttempts) as throttled:
        signed_in(service, "ada@example.com", "correct horse")
    assert throttled.value.retry_after_seconds > 0
    fakes.manual_clock.advance(throttled.value.retry_after_seconds)
    assert signed_in(service, "ada@example.com", "correct horse")


def test_a_sign_in_is_recorded_as_the_users_own_event(
    service: IdentityService, fakes: InMemoryContainer
) -> None:
    user = service.register(Register("ada@example.com", "correct horse"), ANON)
    signed_in(service, "ada@example.com", "correct horse")
    history = fakes.repository.history(User, user.id)
    assert [e.type for e in history] == ["UserRegistered", "UserLoggedIn"]
    assert history[1].metadata.user_id == user.id


def test_a_password_change_revokes_older_tokens_at_once(service: IdentityService) -> None:
    user = service.register(Register("ada@example.com", "correct horse"), ANON)
    old_token = signed_in(service, "ada@example.com", "correct horse")
    caller = service.authenticate(old_token)
    service.change_password(ChangePassword("correct horse", "battery staple"), as_caller(caller))
    with pytest.raises(Unauthenticated) as revoked:
        service.authenticate(old_token)
    assert revoked.value.code == "token_revoked"
    new_token = signed_in(service, "ada@example.com", "battery staple")
    assert service.authenticate(new_token).user_id == user.id


def test_only_an_admin_deactivates_and_the_users_tokens_stop_working(
    service: IdentityService,
) -> None:
    user = service.register(Register("ada@example.com", "correct horse"), ANON)
    token = signed_in(service, "ada@example.com", "correct horse")
    customer = service.authenticate(token)
    with pytest.raises(Forbidden):
        service.deactivate(Deactivate(user.id), as_caller(customer))
    admin = service.register(Register("root@example.com", "admin password"), ANON, role=Role.ADMIN)
    service.deactivate(Deactivate(user.id), as_caller(Caller(admin.id, Role.ADMIN)))
    with pytest.raises(Unauthenticated) as refused:
        service.authenticate(token)
    assert refused.value.code == "user_deactivated"
    with pytest.raises(Unauthenticated):
        signed_in(service, "ada@example.com", "correct horse")


def test_deactivating_nobody_is_not_found(service: IdentityService) -> None:
    with pytest.raises(NotFound):
        service.deactivate(Deactivate("ghost"), as_caller(Caller("admin", Role.ADMIN)))


def test_a_stale_if_match_is_a_version_mismatch(service: IdentityService) -> None:
    user = service.register(Register("ada@example.com", "correct horse"), ANON)
    caller = as_caller(Caller(user.id, Role.CUSTOMER))
    with pytest.raises(VersionMismatch) as stale:
        service.change_password(ChangePassword("correct horse", "battery staple"), caller, 7)
    assert (stale.value.expected, stale.value.actual) == (7, 1)
    changed = service.change_password(ChangePassword("correct horse", "battery staple"), caller, 1)
    assert changed.version == 2


def test_ensure_admin_creates_once_and_promotes_an_existing_user(
    service: IdentityService,
) -> None:
    first = service.ensure_admin("root@example.com", "admin password", ANON)
    again = service.ensure_admin("root@example.com", "admin password", ANON)
    assert first.id == again.id
    assert again.state.role is Role.ADMIN
    customer = service.register(Register("ada@example.com", "correct horse"), ANON)
    promoted = service.ensure_admin("ada@example.com", "ignored pass", ANON)
    assert promoted.id == customer.id
    assert promoted.state.role is Role.ADMIN


def test_a_token_for_a_user_that_does_not_exist_is_refused(
    service: IdentityService, fakes: InMemoryContainer
) -> None:
    token = fakes.tokens.issue("ghost", 0).value
    with pytest.raises(Unauthenticated):
        service.authenticate(token)
