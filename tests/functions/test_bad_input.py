"""No byte sequence makes a 500: every route with a body, swept with what clients get wrong
(the contract's 400, 413 and 415), through the real handlers on moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functions.conftest import Stack, open_stack
from tests.support.template import http_routes

BODY_ROUTES = sorted(r.key for r in http_routes() if r.key.split(" ")[0] in ("POST", "PUT"))
NESTED = "[" * 200 + "]" * 200


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """One stack for the module: a refused body changes nothing another test reads."""
    with pytest.MonkeyPatch.context() as patch, open_stack(patch) as opened:
        yield opened


@pytest.fixture(scope="module")
def admin(stack: Stack) -> str:
    return stack.admin_token()


def path_of(route: str) -> tuple[str, str]:
    method, template = route.split(" ", 1)
    parts = ["x1" if part.startswith("{") else part for part in template.split("/")]
    return method, "/".join(parts)


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"email": "\xff\xfe"}', "application/json", 400, "malformed_json"),
        (b'{"price": 1e999}', "application/json", 400, "malformed_json"),
        (NESTED.encode(), "application/json", 400, "malformed_json"),
        (b'{"a": NaN}', "application/json", 400, "malformed_json"),
        (b"price=20", "text/plain", 415, "unsupported_media_type"),
        (b"{}", "application/merge-patch+json", 415, "unsupported_media_type"),
        (b'{"x": "' + b"a" * (64 * 1024) + b'"}', "application/json", 413, "payload_too_large"),
    ],
    ids=["not-utf8", "out-of-range", "nested", "nan", "text-plain", "plus-json", "over-64KiB"],
)
def test_a_body_clients_get_wrong_is_a_4xx_in_the_contracts_shape(
    stack: Stack, admin: str, route: str, body: bytes, content_type: str, status: int, code: str
) -> None:
    method, path = path_of(route)

    answer = stack.api.request(
        method, path, raw_body=body, token=admin, headers={"content-type": content_type}
    )

    assert (answer.status, answer.error_code) == (status, code), answer.text


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; charset=UTF-8"])
def test_a_json_media_type_is_json_in_any_case(stack: Stack, content_type: str) -> None:
    answer = stack.api.request(
        "POST",
        "/users",
        raw_body=b'{"email": "case@example.com", "password": "long enough"}',
        headers={"content-type": content_type},
    )

    assert answer.status in (201, 409), answer.text


def test_an_out_of_range_price_filter_is_a_400(stack: Stack) -> None:
    answer = stack.api.request("GET", "/products", query={"min_price": "1e999"})

    assert answer.status == 400, answer.text
