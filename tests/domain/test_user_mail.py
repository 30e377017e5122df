"""The welcome email and the password reset, on the fakes: the user-mail process as the
stream runs it (at least once), and the reset link's rules (once, 30 minutes, the newest
only, void after any password change)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from domain.access import Caller, CommandContext, Role
from domain.errors import InvalidValue, RuleViolation, TooManyAttempts, Unauthenticated
from domain.identity import service as identity
from domain.identity.commands import (
    ChangePassword,
    Deactivate,
    IssueToken,
    Register,
    RequestPasswordReset,
    ResetPassword,
)
from domain.identity.service import (
    MAX_RESET_REQUESTS,
    MAX_RESET_REQUESTS_PER_EMAIL,
)
from domain.identity.user import Mail, User
from event_sourcing.errors import VersionMismatch
from tests.fakes.container import API_URL, InMemoryContainer
from tests.fakes.identity import FakeMailer

ANON = CommandContext("corr", "cause")
SOURCE = "198.51.100.7"
PASSWORD = "correct horse"


def registered(fakes: InMemoryContainer, email: str, password: str) -> User:
    """A customer registered on the fakes, by nobody signed in."""
    return identity.register(
        fakes.repository, fakes.hasher, fakes.pseudonyms, Register(email, password), ANON
    )


@pytest.fixture
def mailer(fakes: InMemoryContainer) -> FakeMailer:
    mailer = fakes.mailer
    assert isinstance(mailer, FakeMailer)
    return mailer


def deliver(fakes: InMemoryContainer, user: User, times: int = 1) -> list[Mail | None]:
    """What the stream does with each of the user's events: run the process, `times` over."""
    events = fakes.event_store.read(user.stream_id)
    return [
        fakes.user_mail.handle(user.id, event.version) for event in events for _ in range(times)
    ]


def reset_token(mailer: FakeMailer, email: str) -> str:
    (*_, last) = mailer.to(email, "reset")
    assert last.link is not None
    parts = urlsplit(last.link)
    assert f"{parts.scheme}://{parts.netloc}" == API_URL
    assert parts.path == "/reset-password"
    (token,) = parse_qs(parts.query)["token"]
    return token


def ask_reset(fakes: InMemoryContainer, email: str, source: str = SOURCE) -> None:
    identity.request_password_reset(
        fakes.repository,
        fakes.failed_logins,
        fakes.pseudonyms,
        RequestPasswordReset(email, source),
        ANON,
    )


def mailed_reset(fakes: InMemoryContainer, mailer: FakeMailer) -> tuple[User, str]:
    """Ada, registered, who asked for a link: the token the link she was mailed carries."""
    user = registered(fakes, "ada@example.com", PASSWORD)
    ask_reset(fakes, "ada@example.com")
    deliver(fakes, user)
    return user, reset_token(mailer, "ada@example.com")


def test_a_new_customer_is_welcomed_once_however_often_the_stream_delivers(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    assert deliver(fakes, user, times=3)[0] is Mail.WELCOME
    assert [m.kind for m in mailer.sent] == ["welcome"]
    assert mailer.sent[0].to == "ada@example.com"
    assert deliver(fakes, user) == [None, None]  # registered, welcomed: nothing is due


def test_a_welcome_sent_but_not_recorded_is_not_sent_again(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    mailer.fail_next(after_effect=True)  # mailed, then the process crashed
    with pytest.raises(ConnectionError):
        fakes.user_mail.handle(user.id, 1)
    assert fakes.user_mail.handle(user.id, 1) is Mail.WELCOME
    assert len(mailer.sent) == 1
    assert fakes.repository.load(User, user.id).state.welcome_due is False


def test_a_failed_send_is_retried_and_then_sent(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    mailer.fail_next()
    with pytest.raises(ConnectionError):
        fakes.user_mail.handle(user.id, 1)
    assert fakes.user_mail.handle(user.id, 1) is Mail.WELCOME
    assert len(mailer.sent) == 1


def test_an_admin_made_by_the_operator_is_not_welcomed(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    admin = identity.ensure_admin(
        fakes.repository, fakes.hasher, fakes.pseudonyms, "root@example.com", "admin password", ANON
    )
    assert deliver(fakes, admin) == [None] * len(fakes.event_store.read(admin.stream_id))
    assert mailer.sent == []


def test_a_known_user_is_mailed_a_link_and_its_token_sets_a_new_password(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    old_token = identity.issue_token(
        fakes.repository,
        fakes.hasher,
        fakes.tokens,
        fakes.failed_logins,
        fakes.pseudonyms,
        IssueToken("ada@example.com", PASSWORD, SOURCE),
        ANON,
    )
    ask_reset(fakes, "ADA@example.com")
    deliver(fakes, user, times=2)
    assert [m.kind for m in mailer.sent] == ["welcome", "reset"]
    token = reset_token(mailer, "ada@example.com")

    reset = identity.reset_password(
        fakes.repository,
        fakes.hasher,
        fakes.reset_tokens,
        ResetPassword(token, "a new password"),
        ANON,
    )
    assert reset.state.credentials_version == 1
    with pytest.raises(Unauthenticated) as revoked:
        identity.authenticate(fakes.repository, fakes.tokens, old_token.token.value)
    assert revoked.value.code == "token_revoked"
    fresh = identity.issue_token(
        fakes.repository,
        fakes.hasher,
        fakes.tokens,
        fakes.failed_logins,
        fakes.pseudonyms,
        IssueToken("ada@example.com", "a new password", SOURCE),
        ANON,
    )
    assert identity.authenticate(fakes.repository, fakes.tokens, fresh.token.value) == Caller(
        user.id, Role.CUSTOMER
    )
    (event,) = [e for e in fakes.event_store.read(user.stream_id) if e.type == "PasswordReset"]
    assert event.metadata.user_id == user.id


def test_an_unknown_or_deactivated_email_is_mailed_nothing(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    admin = identity.ensure_admin(
        fakes.repository, fakes.hasher, fakes.pseudonyms, "root@example.com", "admin password", ANON
    )
    gone = registered(fakes, "gone@example.com", PASSWORD)
    identity.deactivate(
        fakes.repository,
        Deactivate(gone.id),
        CommandContext("c", "c", Caller(admin.id, Role.ADMIN)),
    )
    ask_reset(fakes, "nobody@example.com")
    ask_reset(fakes, "gone@example.com")
    deliver(fakes, gone)
    assert mailer.to("gone@example.com", "reset") == []
    assert mailer.to("nobody@example.com") == []


def test_a_reset_token_works_once(fakes: InMemoryContainer, mailer: FakeMailer) -> None:
    _user, token = mailed_reset(fakes, mailer)
    identity.reset_password(
        fakes.repository,
        fakes.hasher,
        fakes.reset_tokens,
        ResetPassword(token, "a new password"),
        ANON,
    )
    with pytest.raises(RuleViolation) as used:
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(token, "yet another one"),
            ANON,
        )
    assert used.value.code == "reset_token_invalid"


def test_a_reset_token_expires_after_30_minutes(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    _user, token = mailed_reset(fakes, mailer)
    fakes.manual_clock.advance(30 * 60)
    with pytest.raises(RuleViolation) as expired:
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(token, "a new password"),
            ANON,
        )
    assert expired.value.code == "reset_token_invalid"


def test_a_link_not_mailed_within_its_life_is_not_mailed_at_all(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    ask_reset(fakes, "ada@example.com")
    fakes.manual_clock.advance(31 * 60)  # the stream was stuck meanwhile
    deliver(fakes, user)
    assert mailer.to("ada@example.com", "reset") == []


def test_only_the_newest_link_works(fakes: InMemoryContainer, mailer: FakeMailer) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    ask_reset(fakes, "ada@example.com")
    deliver(fakes, user)
    first = reset_token(mailer, "ada@example.com")
    fakes.manual_clock.advance(5 * 60)
    ask_reset(fakes, "ada@example.com")
    deliver(fakes, user)
    second = reset_token(mailer, "ada@example.com")
    assert first != second
    with pytest.raises(RuleViolation):
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(first, "a new password"),
            ANON,
        )
    identity.reset_password(
        fakes.repository,
        fakes.hasher,
        fakes.reset_tokens,
        ResetPassword(second, "a new password"),
        ANON,
    )


def test_a_password_change_voids_the_pending_link(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user, token = mailed_reset(fakes, mailer)
    identity.change_password(
        fakes.repository,
        fakes.hasher,
        ChangePassword(PASSWORD, "changed by hand"),
        CommandContext("c", "c", Caller(user.id, Role.CUSTOMER)),
    )
    with pytest.raises(RuleViolation):
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(token, "a new password"),
            ANON,
        )


@pytest.mark.parametrize(
    "token", ["", "nodot", "user-1.short", "id1." + "0" * 64, "id999." + "0" * 64]
)
def test_a_forged_or_malformed_token_is_refused_like_a_used_one(
    fakes: InMemoryContainer, token: str
) -> None:
    registered(fakes, "ada@example.com", PASSWORD)
    with pytest.raises(RuleViolation) as refused:
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(token, "a new password"),
            ANON,
        )
    assert refused.value.code == "reset_token_invalid"


def test_a_new_password_follows_the_password_rules(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user = registered(fakes, "ada@example.com", PASSWORD)
    ask_reset(fakes, "ada@example.com")
    deliver(fakes, user)
    with pytest.raises(InvalidValue) as short:
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(reset_token(mailer, "ada@example.com"), "short"),
            ANON,
        )
    assert short.value.code == "password_too_short"


def test_reset_requests_are_throttled_per_email_and_source_known_or_not(
    fakes: InMemoryContainer,
) -> None:
    registered(fakes, "ada@example.com", PASSWORD)
    for email in ("ada@example.com", "nobody@example.com"):
        for _ in range(MAX_RESET_REQUESTS):
            ask_reset(fakes, email)
        with pytest.raises(TooManyAttempts) as throttled:
            ask_reset(fakes, email)
        assert throttled.value.retry_after_seconds > 0
        ask_reset(fakes, email, source="203.0.113.9")  # another address is not held back


def test_a_reset_names_the_version_it_is_meant_for_like_any_command(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user, token = mailed_reset(fakes, mailer)
    loaded = fakes.repository.load(User, user.id)
    # the version the user sees: the request and the mail are bookkeeping, not changes
    current = loaded.visible_version
    assert current < loaded.version
    for stale in (current - 1, loaded.version):
        with pytest.raises(VersionMismatch):
            identity.reset_password(
                fakes.repository,
                fakes.hasher,
                fakes.reset_tokens,
                ResetPassword(token, "a new password"),
                ANON,
                stale,
            )
    reset = identity.reset_password(
        fakes.repository,
        fakes.hasher,
        fakes.reset_tokens,
        ResetPassword(token, "a new password"),
        ANON,
        current,
    )
    assert reset.visible_version == reset.version == loaded.version + 1


def test_a_request_soon_after_the_pending_link_keeps_it_and_mails_nothing(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user, token = mailed_reset(fakes, mailer)
    for source in ("203.0.113.1", "203.0.113.2"):  # from anywhere: the owner's link stands
        ask_reset(fakes, "ada@example.com", source=source)
    deliver(fakes, user)
    assert len(mailer.to("ada@example.com", "reset")) == 1
    identity.reset_password(
        fakes.repository,
        fakes.hasher,
        fakes.reset_tokens,
        ResetPassword(token, "a new password"),
        ANON,
    )


def test_requests_for_one_email_are_capped_whatever_the_source(fakes: InMemoryContainer) -> None:
    for n in range(MAX_RESET_REQUESTS_PER_EMAIL):
        ask_reset(fakes, "nobody@example.com", source=f"203.0.113.{n}")
    with pytest.raises(TooManyAttempts):
        ask_reset(fakes, "nobody@example.com", source="198.51.100.99")


def test_a_bad_token_is_refused_before_if_match_tells_anything(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    user, _token = mailed_reset(fakes, mailer)
    forged = f"{user.id}." + "A" * 43
    with pytest.raises(RuleViolation) as refused:
        identity.reset_password(
            fakes.repository,
            fakes.hasher,
            fakes.reset_tokens,
            ResetPassword(forged, "a new password"),
            ANON,
            999,
        )
    assert refused.value.code == "reset_token_invalid"


def test_a_user_deactivated_before_the_welcome_is_not_welcomed(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    admin = identity.ensure_admin(
        fakes.repository, fakes.hasher, fakes.pseudonyms, "root@example.com", "admin password", ANON
    )
    gone = registered(fakes, "gone@example.com", PASSWORD)
    identity.deactivate(
        fakes.repository,
        Deactivate(gone.id),
        CommandContext("c", "c", Caller(admin.id, Role.ADMIN)),
    )
    deliver(fakes, gone)
    assert mailer.to("gone@example.com") == []


def test_the_process_destroys_an_erased_users_key_even_if_the_erasure_could_not(
    fakes: InMemoryContainer, mailer: FakeMailer
) -> None:
    from domain.identity.commands import EraseUser

    user = registered(fakes, "ada@example.com", PASSWORD)
    failing: list[str] = []

    def key_store_down(user_id: str) -> None:
        failing.append(user_id)
        raise ConnectionError("the keys table did not answer")

    admin = CommandContext("corr", "cause", Caller("root", Role.ADMIN))
    with pytest.raises(ConnectionError):
        identity.erase(
            fakes.repository,
            fakes.hasher,
            fakes.failed_logins,
            fakes.pseudonyms,
            key_store_down,  # the erasure's own request fails after recording it
            EraseUser(user.id),
            admin,
        )
    assert failing == [user.id]
    assert fakes.data_keys.get(user.id) is not None  # not yet

    deliver(fakes, user, times=2)  # the stream hands the process the erasure (twice)

    assert fakes.data_keys.get(user.id) is None
    assert mailer.to("ada@example.com", "welcome") == []  # nothing mailed to an erased user
