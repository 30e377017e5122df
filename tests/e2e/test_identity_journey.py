"""The identity journey over HTTP against the local stack: register -> sign in -> me ->
change password -> the old token is refused -> an admin deactivates -> refused; and a
forgotten password reset through the link in the email the stack prints."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client

pytestmark = pytest.mark.e2e


def test_the_whole_identity_journey(api: Client) -> None:
    created = api.call(
        "POST", "/users", {"email": "ada@e2e.example.com", "password": "correct horse"}
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["ETag"] == '"1"'

    token, signed_in = api.sign_in("ada@e2e.example.com", "correct horse")
    me = api.call("GET", "/users/me", token=token, params={"min_version": str(signed_in)})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]
    assert me.json()["email"] == "ada@e2e.example.com"
    assert me.json()["role"] == "customer"
    assert me.json()["last_login"] is not None

    change = {"old_password": "correct horse", "new_password": "battery staple"}
    changed = api.call("POST", "/users/me/password", change, token=token)
    assert changed.status_code == 200, changed.text
    refused = api.call("GET", "/users/me", token=token)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"

    token = api.token("ada@e2e.example.com", "battery staple")
    assert api.call("GET", "/users/me", token=token).status_code == 200

    admin = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    customer_try = api.call("POST", f"/users/{user['id']}/deactivate", token=token)
    assert customer_try.status_code == 403
    deactivated = api.call("POST", f"/users/{user['id']}/deactivate", token=admin)
    assert deactivated.status_code == 200, deactivated.text
    after = api.call("GET", "/users/me", token=token)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "user_deactivated"
    assert (
        api.call(
            "POST", "/auth/token", {"email": "ada@e2e.example.com", "password": "battery staple"}
        ).status_code
        == 401
    )


def test_the_view_reaches_the_commands_version(api: Client, stack: LocalStack) -> None:
    created = api.call(
        "POST", "/users", {"email": "bob@e2e.example.com", "password": "correct horse"}
    )
    token, version = api.sign_in("bob@e2e.example.com", "correct horse")
    assert version == created.json()["version"] == 1
    # The welcome email is the mail process's bookkeeping and a sign-in is no event of the
    # user: neither moves the version the user is answered and sends back in If-Match.
    assert stack.mailbox is not None
    deadline = time.monotonic() + 20
    while not [m for m in stack.mailbox.messages if "bob@e2e.example.com" in m.to]:
        assert time.monotonic() < deadline, "no welcome email"
        time.sleep(0.1)
    token, version = api.sign_in("bob@e2e.example.com", "correct horse")
    assert version == 1
    assert api.call("GET", "/users/me", token=token).json()["version"] == 1
    change = {"old_password": "correct horse", "new_password": "battery staple"}
    changed = api.call("POST", "/users/me/password", change, token=token)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] > version  # a stream position: bookkeeping in between
    token, after = api.sign_in("bob@e2e.example.com", "battery staple")
    assert after == changed.json()["version"]
    me = api.call("GET", "/users/me", token=token, params={"min_version": str(after)})
    assert me.status_code == 200
    assert me.json()["version"] == after
    assert me.json()["last_login"] is not None
    assert me.headers["ETag"] == f'"{me.json()["version"]}"'


def test_errors_have_the_contract_shape_over_http(api: Client) -> None:
    malformed = api.session.post(
        api.url + "/users", data="{nope", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_json"
    unknown = api.call(
        "POST",
        "/users",
        {"email": "x@e2e.example.com", "password": "pw long enough", "admin": True},
    )
    assert unknown.status_code == 400
    assert "pw long enough" not in unknown.text
    no_token = api.call("GET", "/users/me")
    assert no_token.status_code == 401
    assert set(no_token.json()["error"]) == {"code", "message", "details"}


def test_docs_and_openapi_are_served(api: Client) -> None:
    spec = api.call("GET", "/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["openapi"].startswith("3.")
    paths = spec.json()["paths"]
    for path in (
        "/users/me",
        "/products/{id}",
        "/orders",
        "/orders/{id}/place",
        "/inventory/{product_id}",
    ):
        assert path in paths, path
    docs = api.call("GET", "/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


def test_the_admin_was_created_from_the_environment(stack: LocalStack) -> None:
    assert stack.admin_email == ADMIN_EMAIL
    assert stack.admin_created


def test_unknown_routes_and_methods_answer_in_the_contracts_shape(api: Client) -> None:
    missing = api.call("GET", "/no/such/route")
    wrong_method = api.call("DELETE", "/categories")
    inventory = api.call("PATCH", "/inventory/p1")

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "no_route")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )
    assert wrong_method.headers["Allow"] == "GET, POST"
    assert inventory.status_code == 405
    for method in ("TRACE", "QUERY"):  # methods no route has: $default, not a 501 page
        odd = api.call(method, "/categories")
        assert (odd.status_code, odd.json()["error"]["code"]) == (405, "method_not_allowed")


def printed_mail(printed: list[str], to: str, subject: str, seconds: float = 20) -> list[str]:
    """The body of the newest email the local stack printed to `to` with `subject`."""
    deadline = time.monotonic() + seconds
    while True:
        lines = [line for entry in list(printed) for line in entry.splitlines()]
        heads = [i for i, line in enumerate(lines) if line == f"[mail] to {to}: {subject}"]
        if heads:
            body = []
            for line in lines[heads[-1] + 1 :]:
                if not line.startswith("[mail]   "):
                    break
                body.append(line.removeprefix("[mail]   "))
            return body
        assert time.monotonic() < deadline, f"no email to {to}: {subject}"
        time.sleep(0.1)


def test_a_forgotten_password_is_reset_through_the_printed_email(
    api: Client, stack: LocalStack, printed: list[str]
) -> None:
    email = "carol@e2e.example.com"
    created = api.call("POST", "/users", {"email": email, "password": "correct horse"})
    assert created.status_code == 201, created.text
    assert printed_mail(printed, email, "Welcome to the shop")
    old = api.token(email, "correct horse")

    known = api.call("POST", "/auth/password-reset", {"email": email})
    unknown = api.call("POST", "/auth/password-reset", {"email": "nobody@e2e.example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()

    body = printed_mail(printed, email, "Reset your password")
    (link,) = [line for line in body if line.startswith("http")]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == stack.url
    assert parts.path == "/reset-password"
    (reset_token,) = parse_qs(parts.query)["token"]

    confirm = {"token": reset_token, "new_password": "a brand new one"}
    reset = api.call("POST", "/auth/password-reset/confirm", confirm)
    assert reset.status_code == 200, reset.text
    refused = api.call("GET", "/users/me", token=old)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
    assert api.token(email, "a brand new one")
    again = api.call("POST", "/auth/password-reset/confirm", confirm)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "reset_token_invalid"
    assert stack.mailbox is not None
    assert not [m for m in stack.mailbox.messages if "nobody@e2e.example.com" in m.to]


def test_the_emailed_link_opens_a_page_that_sets_the_new_password(
    api: Client, printed: list[str], browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    email = "dave@e2e.example.com"
    assert api.call("POST", "/users", {"email": email, "password": "correct horse"}).ok
    assert api.call("POST", "/auth/password-reset", {"email": email}).status_code == 202
    body = printed_mail(printed, email, "Reset your password")
    (link,) = [line for line in body if line.startswith("http")]

    browser.get(link)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert token not in browser.page_source  # read by the page's script, never written in it
    browser.find_element(By.ID, "password").send_keys("chosen in a browser")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    said = WebDriverWait(browser, 10).until(
        lambda driver: driver.find_element(By.ID, "said").text or None
    )
    assert said == "Your password is changed. You can sign in with it now."
    assert api.token(email, "chosen in a browser")

    browser.get(link)  # once only
    browser.find_element(By.ID, "password").send_keys("and once more again")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    refused = WebDriverWait(browser, 10).until(
        lambda driver: driver.find_element(By.ID, "said").text or None
    )
    # said to a person: what happened and what to do, no code of the API
    assert refused.startswith("This link has expired or has already been used. Ask for a new")
    assert "reset_token" not in refused

    browser.get(link.split("?")[0])  # the token lost on the way
    assert browser.find_element(By.ID, "said").text.startswith("This link is incomplete.")
    assert not browser.find_element(By.ID, "reset").is_displayed()
