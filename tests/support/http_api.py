"""Call the functions as API Gateway (HTTP API, payload 2.0) would: authorizer first, then
the route's function with the authorizer's context. In process, against moto."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.support.lambda_context import FakeLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def error_code(self) -> str:
        return str(self.json["error"]["code"])


@dataclass
class HttpApi:
    """`routes` maps "METHOD /path/{param}" to (handler, needs_authorizer, function's logical
    id); `acting_as(logical_id)` is entered around each handler call (the function's role)."""

    routes: dict[str, tuple[Handler, bool, str]]
    authorizer: Handler
    calls: list[str] = field(default_factory=list)
    acting_as: Callable[[str], AbstractContextManager[None]] = lambda _: contextlib.nullcontext()
    authorizer_function: str = "AuthorizerFunction"

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        route_key, params = self._match(method, path)
        handler, authorized, function = self.routes[route_key]
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        body = (
            raw_body
            if raw_body is not None
            else (None if json_body is None else json.dumps(json_body))
        )
        if body is not None:
            all_headers.setdefault("content-type", "application/json")
        event = http_event(method, path, route_key, params, all_headers, query, body)
        if authorized:
            with self.acting_as(self.authorizer_function):
                decision = self.authorizer(
                    {**event, "type": "REQUEST", "routeArn": f"arn:local/{route_key}"},
                    FakeLambdaContext(),
                )
            assert decision["isAuthorized"] is True
            event["requestContext"]["authorizer"] = {"lambda": decision.get("context", {})}
        self.calls.append(route_key)
        with self.acting_as(function):
            response = handler(event, FakeLambdaContext())
        return Answer(
            response["statusCode"],
            {k.lower(): v for k, v in (response.get("headers") or {}).items()},
            response.get("body") or "",
        )

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        parts = path.strip("/").split("/")
        for route_key in self.routes:
            route_method, route_path = route_key.split(" ", 1)
            pattern = route_path.strip("/").split("/")
            if route_method != method or len(pattern) != len(parts):
                continue
            params = {}
            for want, have in zip(pattern, parts, strict=True):
                if want.startswith("{"):
                    params[want.strip("{}")] = have
                elif want != have:
                    break
            else:
                return route_key, params
        raise KeyError(f"no route for {method} {path}")


def http_event(
    method: str,
    path: str,
    route_key: str,
    params: dict[str, str],
    headers: dict[str, str],
    query: dict[str, str] | None,
    body: str | None,
) -> dict[str, Any]:
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers,
        "queryStringParameters": query,
        "pathParameters": params or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }
