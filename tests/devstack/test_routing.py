"""Route selection in API Gateway's order: exact, then parameters, greedy, $default."""

from __future__ import annotations

import pytest

from devstack.routing import Router
from devstack.sam import RouteSpec
from devstack.template import TemplateError


def route(method: str, path: str, name: str) -> RouteSpec:
    return RouteSpec(
        api_logical_id="Api", method=method, path=path, function_logical_id="Fn", event_name=name
    )


ROUTER = Router(
    [
        route("GET", "/pets/dog/1", "exact"),
        route("GET", "/pets/dog/{id}", "param"),
        route("ANY", "/pets/dog/{id}", "any-param"),
        route("GET", "/pets/{proxy+}", "greedy"),
        route("ANY", "/{proxy+}", "root-greedy"),
        route("GET", "/users/me", "me"),
        route("GET", "/users/{id}", "user"),
        route("POST", "/users/{id}/deactivate", "deactivate"),
        route("GET", "/a/{x}/c", "a-x-c"),
        route("GET", "/a/b/{y}", "a-b-y"),
        route("ANY", "$default", "default"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "expected", "parameters"),
    [
        ("GET", "/pets/dog/1", "exact", {}),
        ("GET", "/pets/dog/2", "param", {"id": "2"}),
        ("DELETE", "/pets/dog/2", "any-param", {"id": "2"}),
        ("GET", "/pets/cat/2", "greedy", {"proxy": "cat/2"}),
        ("POST", "/pets/cat/2", "root-greedy", {"proxy": "pets/cat/2"}),
        ("GET", "/users/me", "me", {}),
        ("GET", "/users/42", "user", {"id": "42"}),
        ("GET", "/users/a%20b", "user", {"id": "a b"}),
        ("POST", "/users/7/deactivate", "deactivate", {"id": "7"}),
        ("GET", "/a/b/c", "a-b-y", {"y": "c"}),
        ("GET", "/", "default", {}),
        ("GET", "/users/", "root-greedy", {"proxy": "users/"}),
    ],
)
def test_literal_segments_beat_parameters_which_beat_greedy_ones(
    method: str, path: str, expected: str, parameters: dict[str, str]
) -> None:
    match = ROUTER.match(method, path)
    assert match is not None
    assert match.route.event_name == expected
    assert dict(match.path_parameters) == parameters


def test_no_route_and_no_default() -> None:
    router = Router([route("GET", "/users/{id}", "user"), route("ANY", "/files/{proxy+}", "files")])
    assert router.match("POST", "/users/1") is None
    assert router.match("GET", "/users/1/extra") is None
    assert router.match("GET", "/files") is None


def test_route_keys_read_as_api_gateway_writes_them() -> None:
    assert route("GET", "/users/{id}", "x").route_key == "GET /users/{id}"
    assert route("ANY", "$default", "x").route_key == "$default"


def test_duplicate_routes_are_rejected() -> None:
    with pytest.raises(TemplateError, match="declared by both"):
        Router([route("GET", "/x", "one"), route("GET", "/x", "two")])
