"""The operator CLI against moto."""

from __future__ import annotations

import pytest

from infra import cli
from tests.functions.conftest import Stack


def test_create_admin_is_idempotent_and_the_admin_can_sign_in(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "admin password 9")
    assert cli.main(["create-admin", "--email", "boss@example.com"]) == 0
    assert cli.main(["create-admin", "--email", "boss@example.com"]) == 0
    assert "admin boss@example.com ready" in capsys.readouterr().out
    answer = stack.api.request(
        "POST",
        "/auth/token",
        json_body={"email": "boss@example.com", "password": "admin password 9"},
    )
    assert answer.status == 200


def test_create_admin_refuses_a_bad_email_clearly(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "admin password 9")
    assert cli.main(["create-admin", "--email", "nope"]) == 1
    assert "not a valid email" in capsys.readouterr().err


def test_rebuild_catches_the_views_up_from_the_event_table(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"email": "ada@example.com", "password": "pass word 1"}
    assert stack.api.request("POST", "/users", json_body=body).status == 201
    assert cli.main(["rebuild", "--drop-after", "0"]) == 0
    assert "users: generation 2 (version 1) built from 1 streams" in capsys.readouterr().out
    token = stack.api.request("POST", "/auth/token", json_body=body).json["access_token"]
    me = stack.api.request("GET", "/users/me", token=token)
    assert me.status == 200
    assert me.json["email"] == "ada@example.com"
