"""The identity journey over HTTP against the local stack: register -> sign in -> me ->
change password -> the old token is refused -> an admin deactivates -> refused."""

from __future__ import annotations

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

    token = api.token("ada@e2e.example.com", "correct horse")
    me = api.call("GET", "/users/me", token=token, params={"min_version": "2"})
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


def test_the_view_reaches_the_commands_version(api: Client) -> None:
    created = api.call(
        "POST", "/users", {"email": "bob@e2e.example.com", "password": "correct horse"}
    )
    token = api.token("bob@e2e.example.com", "correct horse")
    version = created.json()["version"] + 1
    me = api.call("GET", "/users/me", token=token, params={"min_version": str(version)})
    assert me.status_code == 200
    assert me.json()["version"] == version
    assert me.headers["ETag"] == f'"{version}"'


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
