"""HTTP API payload format 2.0: the event a request becomes, and how a response maps back."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from devstack.cfn import ACCOUNT_ID
from devstack.sam import ApiSpec

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml")
# headers the gateway sets itself on the way out
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def new_request_id() -> str:
    """An id shaped like API Gateway's (16 base64 characters)."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names' values comma-joined, as HTTP APIs do."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


class _Headers:
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The header's values, comma-joined; None when absent."""
        return _joined((key.lower(), value) for key, value in self.headers).get(name.lower())


@dataclass(frozen=True)
class HttpRequest(_Headers):
    """A request as the gateway received it."""

    method: str
    raw_path: str
    raw_query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    request_id: str = field(default_factory=new_request_id)
    received_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class HttpResponse(_Headers):
    """What the gateway answers."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class InvalidResponse(Exception):
    """The function's result is not a valid HTTP API response."""


def json_response(status: int, document: Any) -> HttpResponse:
    return HttpResponse(
        status, (("content-type", "application/json"),), json.dumps(document).encode()
    )


def event_headers(request: HttpRequest) -> dict[str, str]:
    """Lower-cased names, repeated headers comma-joined; cookies move to `cookies`."""
    lowered = ((key.lower(), value) for key, value in request.headers)
    headers = _joined((name, value) for name, value in lowered if name != "cookie")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    host = request.header("host") or ""
    headers.setdefault("x-forwarded-port", host.rpartition(":")[2] if ":" in host else "80")
    headers.setdefault(
        "x-amzn-trace-id", f"Root=1-{int(request.received_at):08x}-{secrets.token_hex(12)}"
    )
    return headers


def event_cookies(request: HttpRequest) -> list[str]:
    return [
        cookie.strip()
        for key, value in request.headers
        if key.lower() == "cookie"
        for cookie in value.split(";")
        if cookie.strip()
    ]


def query_parameters(raw_query: str) -> dict[str, str]:
    """Decoded query parameters; repeated names comma-joined."""
    return _joined(parse_qsl(raw_query, keep_blank_values=True))


def request_context(request: HttpRequest, route_key: str, api: ApiSpec) -> dict[str, Any]:
    host = (request.header("host") or "localhost").split(",")[0].strip()
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    moment = datetime.fromtimestamp(request.received_at, UTC)
    return {
        "accountId": ACCOUNT_ID,
        "apiId": api.api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": api.stage,
        "time": f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000",
        "timeEpoch": round(request.received_at * 1000),
    }


def is_textual(content_type: str | None) -> bool:
    """Whether HTTP APIs pass a body of this type as text (else base64)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def request_parts(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str],
    api: ApiSpec,
) -> dict[str, Any]:
    """The fields the integration event and the authorizer event share."""
    parts: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    cookies = event_cookies(request)
    if cookies:
        parts["cookies"] = cookies
    parts["headers"] = event_headers(request)
    query = query_parameters(request.raw_query)
    if query:
        parts["queryStringParameters"] = query
    parts["requestContext"] = request_context(request, route_key, api)
    if path_parameters:
        parts["pathParameters"] = dict(path_parameters)
    if api.stage_variables:
        parts["stageVariables"] = dict(api.stage_variables)
    return parts


def build_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str],
    api: ApiSpec,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload-2.0 event of `request` for the route it matched."""
    parts = request_parts(request, route_key=route_key, path_parameters=path_parameters, api=api)
    return integration_event(request, parts, authorizer)


def integration_event(
    request: HttpRequest, parts: Mapping[str, Any], authorizer: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The function's event: the request's `parts`, the authorizer's output and the body."""
    event = copy.deepcopy(dict(parts))
    if authorizer is not None:
        event["requestContext"]["authorizer"] = dict(authorizer)
    text = None
    if is_textual(request.header("content-type")):
        with contextlib.suppress(UnicodeDecodeError):
            text = request.body.decode("utf-8")
    if request.body:
        event["body"] = text if text is not None else base64.b64encode(request.body).decode()
    event["isBase64Encoded"] = bool(request.body) and text is None
    return event


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise InvalidResponse(f"header value {value!r} is not a string")


def map_response(payload: Any) -> HttpResponse:
    """The HTTP response for a function's result, by the payload-2.0 rules."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        # any JSON without statusCode: 200, application/json, the result as body
        body = payload if isinstance(payload, str) else json.dumps(payload)
        return HttpResponse(200, (("content-type", "application/json"),), body.encode())
    status = payload["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResponse(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    raw_headers = payload.get("headers") or {}
    multi = payload.get("multiValueHeaders") or {}
    if not isinstance(raw_headers, dict) or not isinstance(multi, dict):
        raise InvalidResponse("headers must be an object")
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), _header_text(value)))
    for name, value in raw_headers.items():
        if (str(name), _header_text(value)) not in headers:
            headers.append((str(name), _header_text(value)))
    cookies = payload.get("cookies") or []
    if not isinstance(cookies, list):
        raise InvalidResponse("cookies must be an array")
    headers.extend(("set-cookie", _header_text(cookie)) for cookie in cookies)
    headers = [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    raw_body = payload.get("body")
    if raw_body is None:
        data = b""
    elif not isinstance(raw_body, str):
        raise InvalidResponse(f"body must be a string, got {type(raw_body).__name__}")
    elif payload.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(raw_body, validate=True)
        except ValueError as error:
            raise InvalidResponse(f"body is not valid base64: {error}") from None
    else:
        data = raw_body.encode()
    return HttpResponse(status, tuple(headers), data)
