"""Lambda authorizer flows, with a scripted authorizer function (no processes)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.authorizer import Allowed, Authorizers, Rejected, route_arn
from devstack.http_event import HttpRequest, request_parts
from devstack.runtime import InvokeResult
from devstack.sam import ApiSpec, AuthorizerSpec

API = ApiSpec(logical_id="Api", api_id="apiid12345", stage_variables={"env": "local"})


class ScriptedAuthorizer:
    """Answers with `response` (or an error) and remembers the events it got."""

    def __init__(self, response: Any = None, error: dict[str, Any] | None = None) -> None:
        self.response = response
        self.error = error
        self.events: list[dict[str, Any]] = []

    def __call__(self, logical_id: str, event: Any) -> InvokeResult:
        assert logical_id == "AuthFn"
        self.events.append(event)
        return InvokeResult("req-1", payload=self.response, error=self.error)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spec(
    *,
    simple: bool = True,
    sources: tuple[str, ...] = ("$request.header.Authorization",),
    ttl: int = 0,
) -> AuthorizerSpec:
    return AuthorizerSpec(
        name="Auth",
        function_logical_id="AuthFn",
        payload_format_version="2.0",
        simple_responses=simple,
        identity_sources=sources,
        ttl_seconds=ttl,
    )


def request(headers: tuple[tuple[str, str], ...] = (), query: str = "") -> HttpRequest:
    return HttpRequest(
        method="GET",
        raw_path="/orders/9",
        raw_query=query,
        headers=(("Host", "localhost:3000"), *headers),
    )


def authorize(
    function: ScriptedAuthorizer,
    authorizer: AuthorizerSpec,
    http: HttpRequest,
    clock: Clock | None = None,
) -> Allowed | Rejected:
    parts = request_parts(http, route_key="GET /orders/{id}", path_parameters={"id": "9"}, api=API)
    runner = Authorizers(function, "us-east-1", lambda line: None, clock=clock or Clock())
    return runner.authorize(authorizer, API, http, parts)


def test_missing_identity_source_is_401_without_calling() -> None:
    function = ScriptedAuthorizer({"isAuthorized": True})
    assert authorize(function, spec(), request()) == Rejected(401)
    assert authorize(function, spec(), request((("Authorization", ""),))) == Rejected(401)
    query_spec = spec(sources=("$request.querystring.token",))
    assert authorize(function, query_spec, request(query="other=1")) == Rejected(401)
    assert function.events == []


def test_simple_deny_is_403() -> None:
    function = ScriptedAuthorizer({"isAuthorized": False, "context": {"why": "no"}})
    assert authorize(function, spec(), request((("Authorization", "t"),))) == Rejected(403)


def test_simple_allow_passes_context() -> None:
    function = ScriptedAuthorizer({"isAuthorized": True, "context": {"user": "u1", "n": 2}})
    decision = authorize(function, spec(), request((("authorization", "t"),)))
    assert decision == Allowed({"lambda": {"user": "u1", "n": 2}})


def test_a_request_authorizer_gets_a_payload_v2_event_with_its_identity_sources() -> None:
    function = ScriptedAuthorizer({"isAuthorized": True})
    sources = ("$request.header.Authorization", "$request.querystring.q", "$stageVariables.env")
    authorize(function, spec(sources=sources), request((("Authorization", "tok"),), query="q=1"))
    (event,) = function.events
    assert event["version"] == "2.0"
    assert event["type"] == "REQUEST"
    assert (
        event["routeArn"]
        == "arn:aws:execute-api:us-east-1:123456789012:apiid12345/$default/GET/orders/9"
    )
    assert event["identitySource"] == ["tok", "1", "local"]
    assert event["routeKey"] == "GET /orders/{id}"
    assert event["rawPath"] == "/orders/9"
    assert event["rawQueryString"] == "q=1"
    assert event["headers"]["authorization"] == "tok"
    assert event["queryStringParameters"] == {"q": "1"}
    assert event["pathParameters"] == {"id": "9"}
    assert event["stageVariables"] == {"env": "local"}
    assert event["requestContext"]["apiId"] == "apiid12345"
    assert "body" not in event
    assert "isBase64Encoded" not in event


def test_no_identity_sources_means_no_identity_source_field() -> None:
    function = ScriptedAuthorizer({"isAuthorized": True})
    assert isinstance(authorize(function, spec(sources=()), request()), Allowed)
    assert "identitySource" not in function.events[0]


@pytest.mark.parametrize(
    "response",
    [{"isAuthorized": "yes"}, {"nothing": 1}, {"isAuthorized": True, "context": "x"}, ["a"]],
)
def test_invalid_simple_response_is_500(response: Any) -> None:
    function = ScriptedAuthorizer(response)
    assert authorize(function, spec(), request((("Authorization", "t"),))) == Rejected(500)


def test_authorizer_error_is_500() -> None:
    function = ScriptedAuthorizer(error={"errorType": "ValueError", "errorMessage": "x"})
    assert authorize(function, spec(), request((("Authorization", "t"),))) == Rejected(500)


def policy(effect: str, resource: str, *, action: str = "execute-api:Invoke") -> dict[str, Any]:
    return {
        "principalId": "p-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": action, "Effect": effect, "Resource": resource}],
        },
        "context": {"tier": "gold"},
    }


def test_policy_allow_deny_and_wildcards() -> None:
    arn = route_arn(API, "us-east-1", "GET", "/orders/9")
    headers = (("Authorization", "t"),)
    cases = [
        (policy("Allow", arn), Allowed({"lambda": {"tier": "gold"}, "principalId": "p-1"})),
        (
            policy("Allow", arn.replace("/orders/9", "/*")),
            Allowed({"lambda": {"tier": "gold"}, "principalId": "p-1"}),
        ),
        (
            policy("Allow", arn, action="execute-api:*"),
            Allowed({"lambda": {"tier": "gold"}, "principalId": "p-1"}),
        ),
        (policy("Deny", arn), Rejected(403)),
        (policy("Allow", arn.replace("GET", "POST")), Rejected(403)),
        ({"principalId": "x"}, Rejected(500)),
    ]
    for response, expected in cases:
        decision = authorize(ScriptedAuthorizer(response), spec(simple=False), request(headers))
        assert decision == expected, response


def caller(function: ScriptedAuthorizer, authorizer: AuthorizerSpec, clock: Clock) -> Any:
    runner = Authorizers(function, "us-east-1", lambda line: None, clock=clock)

    def call(token: str) -> Allowed | Rejected:
        http = request((("Authorization", token),))
        parts = request_parts(http, route_key="GET /orders/{id}", path_parameters={}, api=API)
        return runner.authorize(authorizer, API, http, parts)

    return call


def test_cache_by_identity_until_ttl() -> None:
    function = ScriptedAuthorizer({"isAuthorized": True, "context": {"n": 1}})
    clock = Clock()
    call = caller(function, spec(ttl=60), clock)
    call("a")
    call("a")
    assert len(function.events) == 1
    call("b")
    assert len(function.events) == 2
    clock.now += 61
    call("a")
    assert len(function.events) == 3


def test_no_cache_when_ttl_is_zero() -> None:
    function = ScriptedAuthorizer({"isAuthorized": True})
    call = caller(function, spec(ttl=0), Clock())
    for _ in range(3):
        call("a")
    assert len(function.events) == 3
