"""The HTTP API end to end: a toy template's routes, authorizers and functions over HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devstack.runtime import FunctionError
from devstack.stack import LocalStack
from tests.devstack.support import FIXTURES, LogLines, unique_stack_name

ALLOW = {"authorization": "allow"}


@pytest.fixture(scope="module")
def log() -> LogLines:
    return LogLines()


@pytest.fixture(scope="module")
def stack(log: LogLines) -> Iterator[LocalStack]:
    env = {"LOCAL_ADMIN_EMAIL": "root@example.test", "LOCAL_ADMIN_PASSWORD": "pw-1"}
    with LocalStack(
        FIXTURES / "gateway.yaml", stack_name=unique_stack_name("gw"), env=env, log=log
    ) as running:
        yield running


def seen(response: requests.Response) -> dict[str, Any]:
    """What the echo function saw."""
    assert response.status_code == 200, response.text
    decoded: dict[str, Any] = response.json()
    return decoded


def test_route_precedence_and_path_parameters(stack: LocalStack) -> None:
    event = seen(requests.get(f"{stack.url}/items/special"))["event"]
    assert event["routeKey"] == "GET /items/special"
    assert "pathParameters" not in event
    event = seen(requests.get(f"{stack.url}/items/7", headers=ALLOW))["event"]
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "7"}
    event = seen(requests.delete(f"{stack.url}/files/a/b/c.txt"))["event"]
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["requestContext"]["http"]["method"] == "DELETE"


def test_unmatched_route_is_404(stack: LocalStack) -> None:
    for method, path in [("GET", "/nowhere"), ("POST", "/items/7"), ("GET", "/files")]:
        response = requests.request(method, f"{stack.url}{path}")
        assert response.status_code == 404
        assert response.json() == {"message": "Not Found"}


def test_the_gateway_sends_a_payload_v2_event_with_repeated_headers_and_query_joined(
    stack: LocalStack,
) -> None:
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port)
    connection.putrequest("POST", "/public?a=1&a=2&b=x%20y")
    for name, value in [
        ("X-Dup", "one"),
        ("X-Dup", "two"),
        ("Cookie", "s=1; t=2"),
        ("Content-Type", "application/json"),
        ("Content-Length", "8"),
    ]:
        connection.putheader(name, value)
    connection.endheaders(b'{"a": 1}')
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("apigw-requestid")
    event = json.loads(response.read())["event"]
    connection.close()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /public"
    assert event["rawPath"] == "/public"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["x-dup"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] == {"colour": "blue"}
    context = event["requestContext"]
    assert context["stage"] == "$default"
    assert context["routeKey"] == "ANY /public"
    assert context["http"]["path"] == "/public"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["apiId"] == stack.resolved_env("EchoFunction")["API_ID"]
    assert context["requestId"] == response.getheader("apigw-requestid")
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 30
    assert "authorizer" not in context


def test_binary_body_arrives_base64(stack: LocalStack) -> None:
    event = seen(
        requests.put(
            f"{stack.url}/public",
            data=b"\x00\x01\xfe",
            headers={"content-type": "application/octet-stream"},
        )
    )["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01\xfe"


def test_function_environment_from_template(stack: LocalStack) -> None:
    answer = seen(requests.get(f"{stack.url}/public"))
    env, context = answer["env"], answer["context"]
    assert env["GREETING"] == "hi"  # Metadata.LocalStack.ParameterOverrides
    assert env["SHARED"] == "from-function"  # the function's variables override Globals
    assert env["STYLE"] == "plain"  # Fn::If on a condition
    assert env["API_URL"] == stack.url  # Fn::GetAtt Api.ApiEndpoint
    assert env["SELF"] == f"{stack.stack_name}/{stack.stack_name}-EchoFunction"
    assert env["AWS_ENDPOINT_URL"] == stack.endpoint_url
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"  # Globals
    assert "AWS_SAM_LOCAL" not in env
    assert env == {**stack.resolved_env("EchoFunction"), **_per_invocation(env)}
    assert context["remaining_ms"] <= 2000  # the function's own Timeout: 2


def _per_invocation(env: dict[str, str]) -> dict[str, str]:
    # set per sandbox/invocation; LC_CTYPE by Python's C-locale coercion (PEP 538) when it applies
    names = ("_X_AMZN_TRACE_ID", "AWS_LAMBDA_LOG_STREAM_NAME", "LC_CTYPE")
    return {key: env[key] for key in names if key in env}


def test_simple_authorizer_flows(stack: LocalStack) -> None:
    missing = requests.get(f"{stack.url}/items/7")
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    denied = requests.get(f"{stack.url}/items/7", headers={"authorization": "deny"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    crashed = requests.get(f"{stack.url}/items/7", headers={"authorization": "crash"})
    assert (crashed.status_code, crashed.json()) == (500, {"message": "Internal Server Error"})
    garbage = requests.get(f"{stack.url}/items/7", headers={"authorization": "garbage"})
    assert garbage.status_code == 500
    authorizer = seen(requests.get(f"{stack.url}/items/7", headers=ALLOW))["event"][
        "requestContext"
    ]["authorizer"]
    assert authorizer["lambda"]["user"] == "alice"
    assert authorizer["lambda"]["type"] == "REQUEST"
    assert authorizer["lambda"]["identitySource"] == ["allow"]
    assert authorizer["lambda"]["routeKey"] == "GET /items/{id}"
    assert authorizer["lambda"]["pathParameters"] == {"id": "7"}
    assert authorizer["lambda"]["routeArn"].endswith("/$default/GET/items/7")
    assert authorizer["lambda"]["hasBody"] is False


def test_authorizer_without_identity_sources_is_always_called(stack: LocalStack) -> None:
    assert requests.get(f"{stack.url}/open").status_code == 403
    authorizer = seen(requests.get(f"{stack.url}/open", headers=ALLOW))["event"]["requestContext"][
        "authorizer"
    ]
    assert authorizer["lambda"]["identitySource"] is None


def test_policy_authorizer_and_its_cache(stack: LocalStack) -> None:
    first = seen(requests.get(f"{stack.url}/policy/1", headers={"x-token": "allow"}))
    again = seen(requests.get(f"{stack.url}/policy/1", headers={"x-token": "allow"}))
    authorizer = first["event"]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "bob"
    assert again["event"]["requestContext"]["authorizer"] == authorizer  # cached: not called again
    # the cached policy only allows /policy/1: API Gateway evaluates it against the new route
    assert requests.get(f"{stack.url}/policy/2", headers={"x-token": "allow"}).status_code == 403
    assert requests.get(f"{stack.url}/policy/1", headers={"x-token": "nope"}).status_code == 403


def test_function_failures_are_500(stack: LocalStack, log: LogLines) -> None:
    boom = requests.get(f"{stack.url}/boom")
    assert (boom.status_code, boom.json()) == (500, {"message": "Internal Server Error"})
    started = time.monotonic()
    slow = requests.get(f"{stack.url}/slow?sleep=5")
    assert slow.status_code == 500
    assert time.monotonic() - started < 3
    bad = requests.get(f"{stack.url}/shaped?shape=bad-status")
    assert bad.status_code == 500
    assert log.containing("[gateway] ShapedFunction returned an invalid response")


@pytest.mark.parametrize(
    ("shape", "status", "content_type", "body"),
    [
        ("plain-dict", 200, "application/json", b'{"hello": "world"}'),
        ("string", 200, "application/json", b"just text"),
        ("binary", 200, "application/octet-stream", b"\x00\x01\x02\xff"),
        ("empty", 204, "application/json", b""),
    ],
)
def test_a_functions_result_maps_to_the_http_answer_api_gateway_gives(
    stack: LocalStack, shape: str, status: int, content_type: str, body: bytes
) -> None:
    response = requests.get(f"{stack.url}/shaped?shape={shape}")
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body


def test_response_headers_and_cookies(stack: LocalStack) -> None:
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port)
    connection.request("GET", "/shaped?shape=cookies")
    response = connection.getresponse()
    assert response.status == 201
    assert response.read() == b"made"
    headers = response.getheaders()
    connection.close()
    assert [value for name, value in headers if name.lower() == "set-cookie"] == [
        "a=1; Path=/",
        "b=2",
    ]
    assert [value for name, value in headers if name.lower() == "x-many"] == ["a", "b"]
    assert ("x-flag", "true") in headers


def test_head_has_no_body(stack: LocalStack) -> None:
    response = requests.head(f"{stack.url}/public")
    assert response.status_code == 200
    assert response.content == b""


def test_concurrent_requests_to_one_function(stack: LocalStack) -> None:
    answers: list[dict[str, Any]] = []

    def call() -> None:
        answers.append(seen(requests.get(f"{stack.url}/public?sleep=0.5")))

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 1.9
    assert len({answer["pid"] for answer in answers}) == 4


def test_invoking_a_function_directly_answers_its_result_or_lambdas_error(
    stack: LocalStack,
) -> None:
    assert stack.invoke("ShapedFunction", {}) == {"statusCode": 204}
    with pytest.raises(FunctionError) as missing:
        stack.invoke("MissingFunction", {})
    assert missing.value.payload["errorType"] == "Runtime.ImportModuleError"
    with pytest.raises(FunctionError) as marshal:
        stack.invoke("UnserializableFunction", {})
    assert marshal.value.payload["errorType"] == "Runtime.MarshalError"


def test_admin_bootstrap_ran_with_the_function_environment(
    stack: LocalStack, log: LogLines
) -> None:
    (line,) = log.containing("BOOTSTRAP")
    ran = json.loads(line.split("BOOTSTRAP ", 1)[1])
    assert ran == {
        "argv": ["create-admin", "--flag"],
        "email": "root@example.test",
        "password": "pw-1",
        "function": f"{stack.stack_name}-EchoFunction",
        "greeting": "hi",
    }
    assert stack.admin_created


def test_resources_are_named_after_the_stack_and_exist(stack: LocalStack) -> None:
    assert stack.table_name("Table") == f"{stack.stack_name}-Table"
    stack.clients.dynamodb().describe_table(TableName=stack.table_name("Table"))
    assert stack.function_name("EchoFunction") == f"{stack.stack_name}-EchoFunction"


def test_oversized_request_is_413(stack: LocalStack) -> None:
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port)
    connection.putrequest("POST", "/public")
    connection.putheader("Content-Length", str(11 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {"message": "Request Entity Too Large"}
    connection.close()
