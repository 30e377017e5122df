"""The event console's answers that need no browser (tests/e2e/test_console.py has the rest):
it only reads, and it says every time in one form."""

from __future__ import annotations

import re

import pytest

from tests.functions.conftest import Stack


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/console", "/console/streams", "/console/streams/user-x"])
def test_the_console_answers_any_method_but_get_with_a_405_in_the_error_shape(
    stack: Stack, method: str, path: str
) -> None:
    answer = stack.api.request(method, path)
    assert (answer.status, answer.error_code) == (405, "method_not_allowed")
    assert answer.headers["allow"] == "GET"
    assert set(answer.json["error"]) == {"code", "message", "details"}


def test_the_console_shows_event_times_in_one_readable_form(stack: Stack) -> None:
    body = {"email": "times@example.com", "password": "pass word 1"}
    user = stack.api.request("POST", "/users", json_body=body).json["id"]
    page = stack.api.request("GET", f"/console/streams/user-{user}").text
    (shown,) = re.findall(r"<td>(\d{4}-\d\d-\d\d[^<]*)</td>", page)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", shown), shown
