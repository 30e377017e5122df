"""Welcome and password reset over HTTP, on moto (real DynamoDB, real SES API): the routes'
answers, the emails the process reader sends from the stream, and what is never kept or
logged (the reset token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.identity.service import FAILED_LOGIN_WINDOW_SECONDS, MAX_RESET_REQUESTS
from event_sourcing.events import SystemClock
from functions.shared.http import no_sooner_than
from tests.functions.conftest import PUBLIC_API_URL, Stack
from tests.functions.test_identity_http import PASSWORD, register, token
from tests.support.http_api import Answer
from tests.support.mail import sent_to

EMAIL = "ada@example.com"


def ask(stack: Stack, email: str = EMAIL, source_ip: str = "198.51.100.7") -> Answer:
    return stack.api.request(
        "POST", "/auth/password-reset", json_body={"email": email}, source_ip=source_ip
    )


def confirm(stack: Stack, reset_token: str, new_password: str = "a new password") -> Answer:
    return stack.api.request(
        "POST",
        "/auth/password-reset/confirm",
        json_body={"token": reset_token, "new_password": new_password},
    )


def mailed_token(email: str = EMAIL) -> str:
    (*_, mail) = sent_to(email, "Reset your password")
    (link,) = re.findall(r"https?://\S+", str(mail.body))
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PUBLIC_API_URL}/reset-password"
    (value,) = parse_qs(parts.query)["token"]
    return str(value)


def test_registration_sends_one_welcome_email_from_the_stream_even_when_redelivered(
    stack: Stack,
) -> None:
    register(stack)
    assert sent_to(EMAIL) == []  # not from the command: from the stream
    stack.run_process()
    stack.processed.clear()  # the stream delivers every record again
    stack.run_process()
    (welcome,) = sent_to(EMAIL)
    assert "Welcome" in str(welcome.subject)


def test_a_reset_request_answers_202_the_same_for_a_known_and_an_unknown_email(
    stack: Stack,
) -> None:
    register(stack)
    known, unknown = ask(stack), ask(stack, "nobody@example.com")
    assert known.status == unknown.status == 202
    assert known.json == unknown.json
    assert known.json["status"] == "accepted"
    assert "etag" not in known.headers
    assert "etag" not in unknown.headers
    assert set(known.headers) == set(unknown.headers)


def test_the_mailed_link_sets_a_new_password_once_and_revokes_older_tokens(
    stack: Stack,
) -> None:
    register(stack)
    old = token(stack)
    ask(stack)
    stack.run_process()
    reset_token = mailed_token()

    answer = confirm(stack, reset_token)
    assert answer.status == 200, answer.text
    assert answer.headers["etag"] == f'"{answer.json["version"]}"'
    me = stack.api.request("GET", "/users/me", token=old)
    assert me.status == 401
    assert me.error_code == "token_revoked"
    assert token(stack, password="a new password")

    again = confirm(stack, reset_token, "yet another password")
    assert again.status == 422
    assert again.error_code == "reset_token_invalid"
    assert reset_token not in again.text


def test_a_password_reset_ends_the_sign_in_lockout_for_that_email(stack: Stack) -> None:
    from domain.identity.service import MAX_FAILED_LOGINS
    from tests.functions.test_identity_http import login

    register(stack)
    for _ in range(MAX_FAILED_LOGINS):
        assert login(stack, password="a guess at it").status == 401
    locked = login(stack)
    assert locked.status == 429  # the owner too, from this address
    ask(stack)
    stack.run_process()
    assert confirm(stack, mailed_token()).status == 200
    assert login(stack, password="a new password").status == 200


def test_mail_sent_and_resets_asked_for_in_the_background_fail_no_if_match(
    stack: Stack,
) -> None:
    created = register(stack).json
    assert created["version"] == 1
    bearer = token(stack)
    stack.run_process()  # the welcome email is sent, and noted on the user's stream
    ask(stack, source_ip="203.0.113.9")  # a reset asked for by anyone
    stack.run_process()  # and its link mailed
    stack.project()
    me = stack.api.request("GET", "/users/me", token=bearer, query={"min_version": "1"})
    assert (me.json["version"], me.headers["etag"]) == (1, '"1"')
    body = {"old_password": PASSWORD, "new_password": "a new password"}
    changed = stack.api.request(
        "POST", "/users/me/password", json_body=body, token=bearer, headers={"If-Match": '"1"'}
    )
    assert changed.status == 200, changed.text
    assert changed.json["version"] > 1
    assert changed.headers["etag"] == f'"{changed.json["version"]}"'


def test_an_unknown_email_is_mailed_nothing(stack: Stack) -> None:
    ask(stack, "nobody@example.com")
    stack.run_process()
    assert sent_to("nobody@example.com") == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"token": "x.y"}, 400),
        ({"token": "", "new_password": "a new password"}, 400),
        ({"token": 12, "new_password": "a new password"}, 400),
        ({"token": "x.y", "new_password": "a new password", "extra": 1}, 400),
        ({"token": "user-1." + "A" * 43, "new_password": "a new password"}, 422),
        ({"token": "not a token", "new_password": "a new password"}, 422),
    ],
)
def test_a_bad_confirmation_is_refused(stack: Stack, body: dict[str, object], status: int) -> None:
    answer = stack.api.request("POST", "/auth/password-reset/confirm", json_body=body)
    assert answer.status == status, answer.text
    assert set(answer.json) == {"error"}


def test_reset_requests_are_throttled_per_email_and_source(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests are counted per fixed window: run the test from a window's start, so that
    # none of its requests falls into the next one (where the count starts again)
    started = datetime.now(UTC)
    into_window = int(started.timestamp()) % FAILED_LOGIN_WINDOW_SECONDS
    shift = timedelta(seconds=into_window)
    monkeypatch.setattr(SystemClock, "now", lambda self: datetime.now(UTC) - shift)
    register(stack)
    for _ in range(MAX_RESET_REQUESTS):
        assert ask(stack).status == 202
    throttled, unknown = ask(stack), None
    assert throttled.status == 429
    assert int(throttled.headers["retry-after"]) > 0
    for _ in range(MAX_RESET_REQUESTS):
        ask(stack, "nobody@example.com")
    unknown = ask(stack, "nobody@example.com")
    assert (unknown.status, unknown.json) == (throttled.status, throttled.json)
    assert ask(stack, source_ip="203.0.113.9").status == 202


def test_the_reset_token_is_never_kept_in_a_table_nor_logged(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    register(stack, password=PASSWORD)
    ask(stack)
    stack.run_process()
    reset_token = mailed_token()
    confirm(stack, reset_token)
    confirm(stack, reset_token)  # refused, and logged as a refusal
    secret = reset_token.rpartition(".")[2]
    for table in stack.tables.values():
        for item in stack.client.scan(TableName=table)["Items"]:
            assert secret not in str(item), table
    assert secret not in capsys.readouterr().out


def test_an_answer_leaves_no_sooner_than_its_floor_raising_or_not() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with no_sooner_than(0.3, clock=lambda: now[0], sleep=sleep):
        now[0] += 0.05
    assert slept == [pytest.approx(0.25)]
    with pytest.raises(KeyError), no_sooner_than(0.3, clock=lambda: now[0], sleep=sleep):
        raise KeyError("refused")
    assert slept[-1] == pytest.approx(0.3)
    with no_sooner_than(0.3, clock=lambda: now[0], sleep=sleep):
        now[0] += 1.0
    assert len(slept) == 2


def test_the_link_opens_a_page_that_never_holds_the_token(stack: Stack) -> None:
    answer = stack.api.request("GET", "/reset-password", query={"token": "u1.secret-part"})
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "secret-part" not in answer.text
    assert 'new URL("auth/password-reset/confirm", location.href)' in answer.text
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_the_reset_page_speaks_to_a_person_and_never_shows_the_apis_own_words(
    stack: Stack,
) -> None:
    page = stack.api.request("GET", "/reset-password", query={"token": "t"}).text
    assert "error.message" not in page  # the API's sentences are for developers
    assert "reset_token_invalid" not in page
    assert "at least 8 characters (and at most 256)" in page  # the domain's own limits
    assert "each link works once, for 30 minutes" in page
    assert "{" + "MIN}" not in page
