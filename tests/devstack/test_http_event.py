"""The payload-2.0 event a request becomes, and how function results map to responses."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from devstack.http_event import (
    HttpRequest,
    InvalidResponse,
    build_event,
    is_textual,
    map_response,
)
from devstack.sam import ApiSpec

API = ApiSpec(logical_id="Api", api_id="abc123defg", stage_variables={"colour": "blue"})


def request(**overrides: Any) -> HttpRequest:
    values: dict[str, Any] = {
        "method": "POST",
        "raw_path": "/users/42",
        "raw_query": "a=1&a=2&b=x%20y&flag",
        "headers": (
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "tests"),
            ("X-Dup", "one"),
            ("x-dup", "two"),
            ("Cookie", "s=1; t=2"),
            ("Content-Type", "application/json"),
        ),
        "body": b'{"name": "x"}',
        "source_ip": "10.1.2.3",
        "request_id": "ABCDEFGHIJKLMNO=",
        "received_at": 1583348638.390,
    }
    values.update(overrides)
    return HttpRequest(**values)


def test_an_event_carries_route_key_path_and_parameters_as_api_gateway_sends_them() -> None:
    event = build_event(
        request(), route_key="POST /users/{id}", path_parameters={"id": "42"}, api=API
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /users/{id}"
    assert event["rawPath"] == "/users/42"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y&flag"
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "flag": ""}
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"colour": "blue"}
    assert event["body"] == '{"name": "x"}'
    assert event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]


def test_headers_are_lower_case_and_joined() -> None:
    headers = build_event(request(), route_key="$default", path_parameters={}, api=API)["headers"]
    assert headers["x-dup"] == "one,two"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "tests"
    assert headers["x-forwarded-for"] == "10.1.2.3"
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)


def test_the_request_context_is_the_one_api_gateway_sends() -> None:
    context = build_event(
        request(), route_key="$default", path_parameters={}, api=API, authorizer={"lambda": {}}
    )["requestContext"]
    assert context == {
        "accountId": "123456789012",
        "apiId": "abc123defg",
        "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "http": {
            "method": "POST",
            "path": "/users/42",
            "protocol": "HTTP/1.1",
            "sourceIp": "10.1.2.3",
            "userAgent": "tests",
        },
        "requestId": "ABCDEFGHIJKLMNO=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "04/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
        "authorizer": {"lambda": {}},
    }


def test_optional_fields_are_absent() -> None:
    bare = HttpRequest(method="GET", raw_path="/", headers=(("Host", "localhost"),))
    event = build_event(bare, route_key="GET /", path_parameters={}, api=ApiSpec("A", "id"))
    for absent in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert absent not in event
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False


def test_binary_body_is_base64() -> None:
    binary = request(
        headers=(("Host", "h"), ("Content-Type", "application/octet-stream")), body=b"\x00\xff"
    )
    event = build_event(binary, route_key="$default", path_parameters={}, api=API)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


@pytest.mark.parametrize(
    ("content_type", "textual"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/plain", True),
        ("application/problem+json", True),
        ("application/xml", True),
        ("application/x-www-form-urlencoded", False),
        ("image/png", False),
        (None, False),
    ],
)
def test_textual_content_types_are_sent_as_text_others_base64(
    content_type: str | None, textual: bool
) -> None:
    assert is_textual(content_type) is textual


def test_a_full_response_keeps_status_headers_multi_values_and_cookies() -> None:
    response = map_response(
        {
            "statusCode": 201,
            "headers": {"x-one": 1, "content-type": "text/plain"},
            "multiValueHeaders": {"x-many": ["a", "b"]},
            "cookies": ["a=1", "b=2"],
            "body": "made",
        }
    )
    assert response.status == 201
    assert response.body == b"made"
    assert ("x-many", "a") in response.headers
    assert ("x-many", "b") in response.headers
    assert response.header("x-one") == "1"
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1", "b=2"]
    assert response.header("content-type") == "text/plain"


def test_base64_response_is_decoded() -> None:
    response = map_response({"statusCode": 200, "isBase64Encoded": True, "body": "AAEC/w=="})
    assert response.body == b"\x00\x01\x02\xff"
    assert response.header("content-type") == "application/json"


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ({"message": "hi"}, {"message": "hi"}),
        ([1, 2], [1, 2]),
        (None, None),
        (7, 7),
    ],
)
def test_results_without_status_code_are_200_json(result: Any, body: Any) -> None:
    response = map_response(result)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body) == body


def test_string_result_is_the_body() -> None:
    assert map_response("plain words").body == b"plain words"


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "isBase64Encoded": True, "body": "***"},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "cookies": "a=1"},
    ],
)
def test_an_invalid_function_response_is_refused(result: dict[str, Any]) -> None:
    with pytest.raises(InvalidResponse):
        map_response(result)
