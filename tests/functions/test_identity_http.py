"""The identity routes as the contract states them: statuses, shapes, headers, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.support.http_api import Answer
from tests.support.template import http_routes

PASSWORD = "correct horse"


def register(
    stack: Stack,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> Answer:
    body = {"email": email, "password": password}
    return stack.api.request("POST", "/users", json_body=body, headers=headers)


def login(stack: Stack, email: str = "ada@example.com", password: str = PASSWORD) -> Answer:
    return stack.api.request(
        "POST", "/auth/token", json_body={"email": email, "password": password}
    )


def token(stack: Stack, email: str = "ada@example.com", password: str = PASSWORD) -> str:
    answer = login(stack, email, password)
    assert answer.status == 200, answer.text
    return str(answer.json["access_token"])


def test_register_answers_201_with_id_email_version_and_etag(stack: Stack) -> None:
    answer = register(stack)
    assert answer.status == 201, answer.text
    assert set(answer.json) == {"id", "email", "version"}
    assert answer.json["email"] == "ada@example.com"
    assert answer.json["version"] == 1
    assert answer.headers["etag"] == '"1"'


def test_register_twice_with_another_case_is_409(stack: Stack) -> None:
    register(stack)
    answer = register(stack, "ADA@Example.com")
    assert answer.status == 409
    assert answer.error_code == "email_taken"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "ada@example.com"}, "invalid_request"),
        ({"email": "ada@example.com", "password": 12345678}, "invalid_request"),
        ({"email": "ada@example.com", "password": PASSWORD, "role": "admin"}, "invalid_request"),
        ({"email": "not-an-email", "password": PASSWORD}, "invalid_email"),
        ({"email": "ada@example.com", "password": "short"}, "password_too_short"),
        ([], "invalid_request"),
    ],
)
def test_bad_registrations_are_400_and_never_echo_the_password(
    stack: Stack, body: object, code: str
) -> None:
    answer = stack.api.request("POST", "/users", json_body=body)
    assert answer.status == 400, answer.text
    assert answer.error_code == code
    assert set(answer.json["error"]) == {"code", "message", "details"}
    assert PASSWORD not in answer.text
    assert "12345678" not in answer.text


def test_malformed_json_is_400(stack: Stack) -> None:
    answer = stack.api.request("POST", "/users", raw_body='{"email": "a@b.io", "password": ')
    assert answer.status == 400
    assert answer.error_code == "malformed_json"


def test_sign_in_answers_a_bearer_token(stack: Stack) -> None:
    register(stack)
    answer = login(stack, "Ada@Example.com")
    assert answer.status == 200, answer.text
    assert answer.json["token_type"] == "Bearer"
    assert answer.json["expires_in"] == 3600
    assert answer.json["access_token"].count(".") == 2


def test_wrong_password_and_unknown_email_are_the_same_401(stack: Stack) -> None:
    register(stack)
    wrong = login(stack, password="wrong password")
    unknown = login(stack, email="bob@example.com")
    assert wrong.status == unknown.status == 401
    assert wrong.json == unknown.json


def test_too_many_failed_logins_are_429_with_retry_after(stack: Stack) -> None:
    register(stack)
    for _ in range(5):
        assert login(stack, password="wrong password").status == 401
    answer = login(stack)
    assert answer.status == 429
    assert int(answer.headers["retry-after"]) > 0


def test_failures_from_another_address_leave_the_owner_signing_in(stack: Stack) -> None:
    register(stack)
    body = {"email": "ada@example.com", "password": "wrong password"}
    for _ in range(6):
        stack.api.request("POST", "/auth/token", json_body=body, source_ip="203.0.113.66")
    refused = stack.api.request("POST", "/auth/token", json_body=body, source_ip="203.0.113.66")

    assert refused.status == 429
    assert login(stack).status == 200  # the owner, from their own address


def test_me_needs_a_token_and_shows_the_profile_once_projected(stack: Stack) -> None:
    assert stack.api.request("GET", "/users/me").status == 401
    created = register(stack).json
    bearer = token(stack)
    assert stack.project()["batchItemFailures"] == []
    # a sign-in is no event: the profile is at the registration's version, signed in
    answer = stack.api.request("GET", "/users/me", token=bearer, query={"min_version": "1"})
    assert answer.status == 200, answer.text
    profile = answer.json
    assert profile["id"] == created["id"]
    assert profile["role"] == "customer"
    assert profile["is_active"] is True
    assert profile["created_at"].endswith("Z")
    assert profile["last_login"] is not None
    assert profile["version"] == 1
    assert answer.headers["etag"] == '"1"'


def test_me_behind_an_event_that_exists_is_503_with_retry_after(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr("functions.shared.http.WAIT_SECONDS", 0.1)
    register(stack)
    bearer = token(stack)  # nothing projected: the view is behind the registration
    answer = stack.api.request("GET", "/users/me", token=bearer, query={"min_version": "1"})
    assert answer.status == 503
    assert answer.headers["retry-after"] == "1"


def test_me_at_a_version_the_stream_never_reached_is_a_400_naming_the_latest(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr("functions.shared.http.WAIT_SECONDS", 0.1)
    register(stack)
    bearer = token(stack)
    stack.project()
    answer = stack.api.request("GET", "/users/me", token=bearer, query={"min_version": "9"})
    assert (answer.status, answer.error_code) == (400, "min_version_ahead")
    assert "the latest is 1" in answer.json["error"]["message"]
    assert answer.json["error"]["details"] == [
        {"field": "min_version", "issue": "the latest version is 1"}
    ]
    assert "retry-after" not in answer.headers


@pytest.mark.parametrize(
    "bad",
    ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
)
def test_a_bad_token_is_401_in_the_error_shape(stack: Stack, bad: str) -> None:
    answer = stack.api.request("GET", "/users/me", token=bad)
    assert answer.status == 401
    assert answer.error_code == "token_invalid"
    assert bad not in answer.text


def test_a_non_bearer_authorization_is_401(stack: Stack) -> None:
    answer = stack.api.request("GET", "/users/me", headers={"Authorization": "Basic abc"})
    assert answer.status == 401
    assert answer.error_code == "malformed_authorization"


def test_changing_the_password_refuses_the_old_token_at_once(stack: Stack) -> None:
    register(stack)
    old = token(stack)
    change = {"old_password": PASSWORD, "new_password": "battery staple"}
    answer = stack.api.request("POST", "/users/me/password", json_body=change, token=old)
    assert answer.status == 200, answer.text
    assert answer.json["version"] == 2
    assert answer.headers["etag"] == '"2"'
    refused = stack.api.request("GET", "/users/me", token=old)
    assert refused.status == 401
    assert refused.error_code == "token_revoked"
    assert login(stack).status == 401
    assert login(stack, password="battery staple").status == 200


def test_a_wrong_old_password_is_422(stack: Stack) -> None:
    register(stack)
    bearer = token(stack)
    change = {"old_password": "not it at all", "new_password": "battery staple"}
    answer = stack.api.request("POST", "/users/me/password", json_body=change, token=bearer)
    assert answer.status == 422
    assert answer.error_code == "old_password_incorrect"


def test_if_match_on_a_stale_version_is_412(stack: Stack) -> None:
    register(stack)
    first = {"old_password": PASSWORD, "new_password": "battery staple"}
    changed = stack.api.request("POST", "/users/me/password", json_body=first, token=token(stack))
    assert changed.json["version"] == 2
    bearer = token(stack, password="battery staple")
    change = {"old_password": "battery staple", "new_password": "horse battery"}
    stale = stack.api.request(
        "POST", "/users/me/password", json_body=change, token=bearer, headers={"If-Match": '"1"'}
    )
    assert stale.status == 412
    assert stale.error_code == "version_mismatch"
    fresh = stack.api.request(
        "POST", "/users/me/password", json_body=change, token=bearer, headers={"If-Match": '"2"'}
    )
    assert fresh.status == 200


def test_a_garbled_if_match_is_400(stack: Stack) -> None:
    register(stack)
    bearer = token(stack)
    change = {"old_password": PASSWORD, "new_password": "battery staple"}
    answer = stack.api.request(
        "POST", "/users/me/password", json_body=change, token=bearer, headers={"If-Match": "soon"}
    )
    assert answer.status == 400


def test_deactivation_is_admin_only_and_refuses_the_users_tokens(stack: Stack) -> None:
    user = register(stack).json
    bearer = token(stack)
    forbidden = stack.api.request("POST", f"/users/{user['id']}/deactivate", token=bearer)
    assert forbidden.status == 403
    admin = stack.admin_token()
    done = stack.api.request("POST", f"/users/{user['id']}/deactivate", token=admin)
    assert done.status == 200, done.text
    assert done.json == {"id": user["id"], "version": 2}
    refused = stack.api.request("GET", "/users/me", token=bearer)
    assert refused.status == 401
    assert refused.error_code == "user_deactivated"
    assert login(stack).status == 401
    again = stack.api.request("POST", f"/users/{user['id']}/deactivate", token=admin)
    assert again.status == 422
    missing = stack.api.request("POST", "/users/nobody/deactivate", token=admin)
    assert missing.status == 404


def test_an_idempotent_retry_answers_the_first_answer_and_appends_nothing(stack: Stack) -> None:
    key = {"Idempotency-Key": "register-ada-1"}
    first = register(stack, headers=key)
    again = register(stack, headers=key)
    assert first.status == again.status == 201
    assert first.json == again.json
    assert again.headers["etag"] == first.headers["etag"]
    different = register(stack, password="another password", headers=key)
    assert different.status == 409
    assert different.error_code == "idempotency_key_reused"
    events = stack.client.scan(TableName=stack.tables["EventsTable"])["Items"]
    assert sum(1 for item in events if item["kind"]["S"] == "event") == 1


def test_a_replayed_sign_in_answers_the_same_token_and_the_table_keeps_no_token(
    stack: Stack,
) -> None:
    register(stack)
    body = {"email": "ada@example.com", "password": PASSWORD}
    key = {"Idempotency-Key": "sign-in-1"}
    first = stack.api.request("POST", "/auth/token", json_body=body, headers=key)
    again = stack.api.request("POST", "/auth/token", json_body=body, headers=key)
    assert first.status == again.status == 200, again.text
    assert again.json == first.json
    wrong = stack.api.request(
        "POST", "/auth/token", json_body={**body, "password": "not the password"}, headers=key
    )
    assert wrong.status == 409
    stack.project()
    me = stack.api.request(
        "GET", "/users/me", headers={"Authorization": f"Bearer {again.json['access_token']}"}
    )
    assert me.status == 200, me.text

    kept = str(stack.client.scan(TableName=stack.tables["IdempotencyTable"])["Items"])
    assert PASSWORD not in kept
    assert first.json["access_token"] not in kept
    signature = first.json["access_token"].rsplit(".", 1)[1]
    assert signature not in kept


def test_openapi_describes_every_identity_route(stack: Stack) -> None:
    answer = stack.api.request("GET", "/openapi.json")
    assert answer.status == 200, answer.text
    paths = answer.json["paths"]
    assert {
        "/users",
        "/auth/token",
        "/users/me",
        "/users/me/password",
        "/users/{id}/deactivate",
        "/users/{id}",
    } <= set(paths)
    erase = paths["/users/me"]["delete"]
    assert set(erase["responses"]) >= {"204", "400", "401", "412"}
    assert "ETag" in erase["responses"]["204"]["headers"]
    assert "content" not in erase["responses"]["204"]
    assert set(paths["/users/{id}"]["delete"]["responses"]) >= {"204", "403", "404"}
    docs = stack.api.request("GET", "/docs")
    assert docs.status == 200
    assert "swagger" in docs.text.lower()


def signed_in_routes() -> list[str]:
    """Every route key some function refuses to anonymous callers (its router says which)."""
    import importlib

    from functions.shared.http import Routes
    from tests.support.template import model

    routers = {
        getattr(importlib.import_module(spec.handler.rsplit(".", 1)[0]), "router", None)
        for spec in model().functions.values()
    }
    return sorted(set().union(*(r.signed_in for r in routers if isinstance(r, Routes))))


PROTECTED = signed_in_routes()


def test_signed_in_routes_are_behind_the_authorizer_in_the_template() -> None:
    authorized = {r.key for r in http_routes() if r.authorized}
    assert set(PROTECTED) <= authorized


@pytest.mark.parametrize("route", PROTECTED)
def test_every_protected_route_answers_401_without_a_token(stack: Stack, route: str) -> None:
    method, path = route.split(" ", 1)
    body: dict[str, str] | None = {} if method in ("POST", "PUT") else None
    answer = stack.api.request(method, path.replace("{id}", "someone"), json_body=body)
    assert answer.status in (400, 401), answer.text
    if answer.status == 400:  # the body is checked first; with a valid one it must be 401
        pytest.fail(f"{route} validated the body before authenticating: {answer.text}")
    assert answer.error_code == "unauthenticated"


def test_the_callers_correlation_id_reaches_the_events_metadata(stack: Stack) -> None:
    register(stack, headers={"X-Correlation-Id": "trace-me-42"})
    item = stack.client.scan(TableName=stack.tables["EventsTable"])["Items"]
    event = next(i for i in item if i["kind"]["S"] == "event")
    assert event["metadata"]["M"]["correlation_id"] == {"S": "trace-me-42"}
    assert event["metadata"]["M"]["causation_id"]["S"]
    assert event["metadata"]["M"]["event_id"]["S"]


def test_signing_in_moves_no_version_so_an_if_match_taken_before_holds(stack: Stack) -> None:
    created = register(stack).json
    signed_in = login(stack)
    assert signed_in.status == 200, signed_in.text
    assert signed_in.json["version"] == created["version"] == 1  # the user's current version
    again = login(stack)
    assert again.json["version"] == 1
    change = {"old_password": PASSWORD, "new_password": "battery staple"}
    answer = stack.api.request(
        "POST",
        "/users/me/password",
        json_body=change,
        token=again.json["access_token"],
        headers={"If-Match": f'"{created["version"]}"'},
    )
    assert answer.status == 200, answer.text
    assert answer.json["version"] == 2


def test_the_last_sign_in_is_noted_beside_the_stream_not_recorded_in_it(stack: Stack) -> None:
    user = register(stack).json
    bearer = token(stack)
    events = stack.client.query(
        TableName=stack.tables["EventsTable"],
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"user-{user['id']}"}},
        ConsistentRead=True,
    )["Items"]
    assert [e["type"]["S"] for e in events] == ["UserRegistered"]
    published = published_item(stack, user["id"])
    assert published is not None
    assert published["kind"]["S"] == "published"
    assert json.loads(published["state"]["S"]) == {
        "active": True,
        "role": "customer",
        "credentials_version": 0,
    }
    assert published["note_last_login"]["S"].endswith("Z")
    assert stack.project()["batchItemFailures"] == []
    me = stack.api.request("GET", "/users/me", token=bearer)
    assert me.status == 200, me.text
    assert me.json["last_login"] == published["note_last_login"]["S"]
    assert me.json["version"] == 1


def published_item(stack: Stack, user_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = stack.client.get_item(
        TableName=stack.tables["EventsTable"],
        Key={"stream_id": {"S": f"published#user-{user_id}"}, "version": {"N": "0"}},
        ConsistentRead=True,
    ).get("Item")
    return item


def as_the_previous_release_wrote_it(stack: Stack, user_id: str) -> None:
    """The user's items as the previous release left them: no published item, no published
    state recorded on its events."""
    table = stack.tables["EventsTable"]
    stack.client.delete_item(
        TableName=table,
        Key={"stream_id": {"S": f"published#user-{user_id}"}, "version": {"N": "0"}},
    )
    items = stack.client.query(
        TableName=table,
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"user-{user_id}"}},
        ConsistentRead=True,
    )["Items"]
    for item in items:
        stack.client.update_item(
            TableName=table,
            Key={"stream_id": item["stream_id"], "version": item["version"]},
            UpdateExpression="REMOVE published",
        )
    assert published_item(stack, user_id) is None


def test_users_written_by_the_previous_release_authenticate_and_are_revoked(
    stack: Stack,
) -> None:
    user = register(stack).json
    assert stack.project()["batchItemFailures"] == []
    as_the_previous_release_wrote_it(stack, user["id"])

    old = token(stack)  # the authorizer reads the stream instead
    assert stack.api.request("GET", "/users/me", token=old).status == 200
    assert published_item(stack, user["id"]) is not None  # the sign-in's note...
    assert "state" not in (published_item(stack, user["id"]) or {})  # ...publishes nothing

    change = {"old_password": PASSWORD, "new_password": "battery staple"}
    changed = stack.api.request("POST", "/users/me/password", json_body=change, token=old)
    assert changed.status == 200, changed.text
    written = published_item(stack, user["id"])
    assert written is not None
    assert json.loads(written["state"]["S"])["credentials_version"] == 1
    refused = stack.api.request("GET", "/users/me", token=old)
    assert refused.status == 401
    assert refused.error_code == "token_revoked"

    bearer = token(stack, password="battery staple")
    as_the_previous_release_wrote_it(stack, user["id"])
    assert stack.api.request("GET", "/users/me", token=bearer).status == 200
    done = stack.api.request("POST", f"/users/{user['id']}/deactivate", token=stack.admin_token())
    assert done.status == 200, done.text
    written = published_item(stack, user["id"])
    assert written is not None
    assert json.loads(written["state"]["S"])["active"] is False
    refused = stack.api.request("GET", "/users/me", token=bearer)
    assert refused.status == 401
    assert refused.error_code == "user_deactivated"


def every_item(stack: Stack) -> str:
    """Every item of every table, as text."""
    return str(
        [stack.client.scan(TableName=table)["Items"] for table in sorted(stack.tables.values())]
    )


def test_a_customer_erases_themself_and_no_table_shows_their_address(stack: Stack) -> None:
    user = register(stack, "Erase.Me@example.com", headers={"Idempotency-Key": "reg-1"}).json
    bearer = token(stack, "erase.me@example.com")
    stack.project()
    assert "erase.me@example.com" in every_item(stack).lower()  # the profile's, before

    wrong = stack.api.request(
        "DELETE", "/users/me", json_body={"password": "not my password"}, token=bearer
    )
    assert wrong.status == 401, wrong.text
    assert "not my password" not in wrong.text
    done = stack.api.request("DELETE", "/users/me", json_body={"password": PASSWORD}, token=bearer)
    assert done.status == 204, done.text
    assert done.text == ""
    assert done.headers["etag"] == f'"{user["version"] + 1}"'
    stack.project()

    assert "erase.me@example.com" not in every_item(stack).lower()
    assert stack.api.request("GET", "/users/me", token=bearer).status == 401
    assert login(stack, "erase.me@example.com").status == 401
    replayed = register(stack, "Erase.Me@example.com", headers={"Idempotency-Key": "reg-1"})
    assert replayed.json["email"] == "[erased]"
    again = register(stack, "erase.me@example.com")
    assert again.status == 201, again.text
    assert again.json["id"] != user["id"]


def test_an_admin_erases_a_user_a_customer_cannot_and_a_repeat_is_harmless(
    stack: Stack,
) -> None:
    ada = register(stack).json
    register(stack, "bob@example.com")
    bob = token(stack, "bob@example.com")
    refused = stack.api.request("DELETE", f"/users/{ada['id']}", token=bob)
    assert refused.status == 403
    admin = stack.admin_token()
    done = stack.api.request("DELETE", f"/users/{ada['id']}", token=admin)
    assert done.status == 204, done.text
    again = stack.api.request("DELETE", f"/users/{ada['id']}", token=admin)
    assert again.status == 204
    assert again.headers["etag"] == done.headers["etag"]
    missing = stack.api.request("DELETE", "/users/nobody", token=admin)
    assert missing.status == 404
    assert login(stack).status == 401


def test_the_admin_route_erases_the_admin_too_and_takes_no_body(stack: Stack) -> None:
    admin = stack.admin_token()
    stack.project()
    me = stack.api.request("GET", "/users/me", token=admin).json
    fields = stack.api.request(
        "DELETE", f"/users/{me['id']}", json_body={"password": "x"}, token=admin
    )
    assert (fields.status, fields.error_code) == (400, "invalid_request")
    assert fields.json["error"]["details"][0]["field"] == "password"
    erased = stack.api.request("DELETE", f"/users/{me['id']}", json_body={}, token=admin)
    assert erased.status == 204, erased.text
