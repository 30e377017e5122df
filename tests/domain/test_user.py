"""The seed's User rules, on fakes only."""

from __future__ import annotations

import pytest

from domain.access import Role
from domain.errors import InvalidValue, RuleViolation
from domain.identity.credentials import email_key, normalize_email
from domain.identity.user import Standing, User, UserLoggedIn
from event_sourcing.testing.memory import ManualClock
from tests.fakes.memory import FakeHasher

hasher = FakeHasher()
NOW = ManualClock().now()


def registered(password: str = "correct horse") -> User:
    return User.register("u1", "Ada@Example.com", password, hasher, NOW)


@pytest.mark.parametrize(
    "email",
    ["ada@example.com", "a.b+tag@sub.example.co", " Ada@Example.COM ", "x_y@d-1.io"],
)
def test_valid_emails_are_accepted_and_trimmed(email: str) -> None:
    assert normalize_email(email) == email.strip()


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plain",
        "@example.com",
        "ada@",
        "ada@example",
        "ada@@example.com",
        "ada example@example.com",
        "ada@exa mple.com",
        ".ada@example.com",
        "a..b@example.com",
        "ada@-example.com",
        "ada@example.c0m",
        "a" * 65 + "@example.com",
        "ada@" + "d" * 250 + ".com",
    ],
)
def test_invalid_emails_are_refused(email: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        normalize_email(email)
    assert refused.value.code == "invalid_email"


def test_emails_are_unique_case_insensitively() -> None:
    assert email_key(" Ada@Example.COM") == email_key("ada@example.com")


def test_a_new_user_is_an_active_customer_with_a_hashed_password() -> None:
    user = registered()
    assert user.state.is_active
    assert user.state.role is Role.CUSTOMER
    assert user.state.password_hash != "correct horse"
    assert user.password_matches("correct horse", hasher)
    assert user.version == 1
    assert [type(e).__name__ for e in user.pending] == ["UserRegistered"]


def test_a_password_under_eight_characters_is_refused() -> None:
    with pytest.raises(InvalidValue) as refused:
        registered("seven77")
    assert refused.value.code == "password_too_short"
    assert refused.value.details[0].field == "password"


def test_changing_the_password_needs_the_old_one() -> None:
    user = registered()
    with pytest.raises(RuleViolation) as refused:
        user.change_password("wrong password", "a new password", hasher, NOW)
    assert refused.value.code == "old_password_incorrect"


def test_a_changed_password_replaces_the_old_and_moves_the_credentials_version() -> None:
    user = registered()
    user.change_password("correct horse", "battery staple", hasher, NOW)
    assert user.password_matches("battery staple", hasher)
    assert not user.password_matches("correct horse", hasher)
    assert user.state.credentials_version == 1


def test_the_new_password_follows_the_length_rule() -> None:
    user = registered()
    with pytest.raises(InvalidValue) as refused:
        user.change_password("correct horse", "short", hasher, NOW)
    assert refused.value.details[0].field == "new_password"


def test_a_deactivated_user_never_authenticates() -> None:
    user = registered()
    user.deactivate("admin-1", NOW)
    assert not user.state.is_active
    assert not user.password_matches("correct horse", hasher)


def test_deactivating_twice_is_refused() -> None:
    user = registered()
    user.deactivate("admin-1", NOW)
    with pytest.raises(RuleViolation, match="already"):
        user.deactivate("admin-1", NOW)


def test_an_admin_cannot_deactivate_themselves() -> None:
    user = registered()
    with pytest.raises(RuleViolation) as refused:
        user.deactivate(user.id, NOW)
    assert refused.value.code == "cannot_deactivate_self"


def test_a_login_recorded_before_sign_ins_left_the_log_still_reads() -> None:
    old = [*registered().pending, UserLoggedIn(NOW)]
    user = User.rebuild("u1", old)
    assert user.state.last_login == NOW
    assert user.version == 2
    assert not hasattr(user, "record_login")  # nothing records it any more


def test_replaying_the_events_rebuilds_the_same_user() -> None:
    user = registered()
    user.change_password("correct horse", "battery staple", hasher, NOW)
    user.deactivate("admin-1", NOW)
    replayed = User.rebuild("u1", user.pending)
    assert replayed.state == user.state
    assert replayed.version == user.version == 3


def test_the_published_standing_is_small_and_follows_the_state() -> None:
    user = registered()
    assert user.published() == {"active": True, "role": "customer", "credentials_version": 0}
    user.change_password("correct horse", "battery staple", hasher, NOW)
    user.grant(Role.ADMIN, "admin-1")
    user.deactivate("admin-1", NOW)
    assert user.published() == {"active": False, "role": "admin", "credentials_version": 1}
    assert Standing.of(user.published()) == Standing(False, Role.ADMIN, 1)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"active": True, "role": "customer"},
        {"active": "yes", "role": "customer", "credentials_version": 0},
        {"active": True, "role": "root", "credentials_version": 0},
        {"active": True, "role": "customer", "credentials_version": "0"},
    ],
)
def test_a_published_state_of_another_shape_is_no_standing(doc: dict[str, object]) -> None:
    assert Standing.of(doc) is None
