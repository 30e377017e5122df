"""Call the functions as API Gateway (HTTP API, payload 2.0) would, in process, against moto:
the local stack's own router, event builder and authorizer flow (devstack), with the handlers
called directly instead of in sandboxes."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from devstack.authorizer import Allowed, Authorizers
from devstack.http_event import HttpRequest, integration_event, map_response, request_parts
from devstack.routing import Router
from devstack.runtime import InvokeResult
from devstack.sam import ApiSpec, RouteSpec
from tests.support.lambda_context import FakeLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]
REGION = "us-east-1"


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
    """`handlers` by function logical id; `routes` and `api` as the template declares them;
    `acting_as(logical_id)` is entered around each handler call (the function's role)."""

    handlers: Mapping[str, Handler]
    routes: Sequence[RouteSpec]
    api: ApiSpec
    calls: list[str] = field(default_factory=list)
    acting_as: Callable[[str], AbstractContextManager[None]] = lambda _: contextlib.nullcontext()

    def __post_init__(self) -> None:
        self._router = Router(self.routes)
        self._authorizers = Authorizers(self._invoke, REGION, lambda line: None)

    def _invoke(self, function: str, event: Any) -> InvokeResult:
        with self.acting_as(function):
            payload = self.handlers[function](event, FakeLambdaContext())
        return InvokeResult(str(uuid.uuid4()), payload=payload)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: str | bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        source_ip: str = "127.0.0.1",
    ) -> Answer:
        match = self._router.match(method, path)
        if match is None:
            raise KeyError(f"no route for {method} {path}")
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
        request = HttpRequest(
            method=method,
            raw_path=path,
            raw_query=urlencode(query or {}),
            headers=tuple(all_headers.items()),
            body=body if isinstance(body, bytes) else (body or "").encode(),
            source_ip=source_ip,
        )
        route = match.route
        parts = request_parts(
            request, route_key=route.route_key, path_parameters=match.path_parameters, api=self.api
        )
        authorizer = None
        if route.authorizer is not None:
            decision = self._authorizers.authorize(
                self.api.authorizers[route.authorizer], self.api, request, parts
            )
            assert isinstance(decision, Allowed), f"the authorizer refused: {decision}"
            authorizer = decision.authorizer
        self.calls.append(route.route_key)
        result = self._invoke(
            route.function_logical_id, integration_event(request, parts, authorizer)
        )
        response = map_response(result.payload)
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.headers},
            response.body.decode(),
        )
