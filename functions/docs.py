"""GET /openapi.json and GET /docs: one OpenAPI document for every route of every function.

Public on the local stack (PUBLIC_DOCS=true); deployed, they need a valid token. The
resolver, with every function's router, is built on the first request: importing this
module stays as light as any other handler's."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from domain.errors import Unauthenticated
from functions.shared.errors import error_response
from functions.shared.http import authenticate_first, caller_of
from functions.shared.observability import CORRELATION_ID, entry_point


@cache
def build_app() -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from functions.commands import catalog as catalog_commands
    from functions.commands import identity as identity_commands
    from functions.commands import ordering as ordering_commands
    from functions.queries import catalog as catalog_queries
    from functions.queries import export
    from functions.queries import identity as identity_queries
    from functions.queries import ordering as ordering_queries
    from functions.shared.http import http_app

    app = http_app(
        identity_commands.router,
        identity_queries.router,
        export.router,
        catalog_commands.router,
        catalog_queries.router,
        ordering_commands.router,
        ordering_queries.router,
    )
    # The OpenAPI models cost ~70 ms to import: only this function describes the API.
    app.configure_openapi(
        title="eventshop",
        version="0.1.0",
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> Response[str]:
        _require_reader(app)
        return Response(200, content_types.APPLICATION_JSON, json.dumps(_document()))

    def docs_guard(app: BaseRouter, next_middleware: Any) -> Response[str]:
        _require_reader(app)
        answer: Response[str] = next_middleware(app)
        return answer

    app.enable_swagger(path="/docs", middlewares=[docs_guard])
    return app


@cache
def _document() -> dict[str, Any]:
    from functions.shared.openapi import as_answered

    document: dict[str, Any] = json.loads(build_app().get_openapi_json_schema())
    return as_answered(document)


def _require_reader(router: BaseRouter) -> None:
    if os.environ.get("PUBLIC_DOCS", "false") != "true" and caller_of(router) is None:
        raise Unauthenticated("The API description needs a bearer access token here.")


@cache
def _paths() -> dict[tuple[str, ...], set[str]]:
    """Every route of the API: its path's segments ("{}" for a parameter) -> its methods."""
    schema = build_app().get_openapi_schema()
    paths: dict[tuple[str, ...], set[str]] = {}
    for path, item in (schema.paths or {}).items():
        segments = tuple("{}" if p.startswith("{") else p for p in path.strip("/").split("/"))
        methods = {m.upper() for m in ("get", "put", "post", "delete", "patch") if getattr(item, m)}
        paths.setdefault(segments, set()).update(methods)
    return paths


def unmatched(event: dict[str, Any]) -> dict[str, Any]:
    """The $default route's answer: 405 with Allow when the path exists, else 404."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "GET")).upper()
    parts = str(event.get("rawPath") or "/").strip("/").split("/")
    allowed: set[str] = set()
    for segments, methods in _paths().items():
        if len(segments) == len(parts) and all(
            s == "{}" or s == p for s, p in zip(segments, parts, strict=True)
        ):
            allowed |= methods
    if allowed and method not in allowed:
        response = error_response(
            405,
            "method_not_allowed",
            f"{method} is not allowed here: use {', '.join(sorted(allowed))}.",
            headers={"Allow": ", ".join(sorted(allowed))},
        )
    else:
        response = error_response(404, "no_route", "No such route.")
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json", **(response.headers or {})},
        "body": response.body,
        "isBase64Encoded": False,
    }


def serve(event: dict[str, Any], context: Any, root: Any) -> dict[str, Any]:
    if event.get("routeKey") == "$default":
        return unmatched(event)
    return authenticate_first(set(), build_app().resolve)(event, context)


handler = entry_point(serve, correlation_id_path=CORRELATION_ID)
