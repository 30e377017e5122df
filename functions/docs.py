"""GET /openapi.json and GET /docs: one OpenAPI document for every route of every function.

Public on the local stack (PUBLIC_DOCS=true); deployed, they need a valid token."""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from domain.shared.errors import Unauthenticated
from functions.commands import identity as identity_commands
from functions.queries import identity as identity_queries
from functions.shared.auth import caller_of
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point

TITLE = "eventshop"
VERSION = "0.1.0"
ROUTERS: list[APIGatewayHttpRouter] = [identity_commands.router, identity_queries.router]

app = http_app(*ROUTERS)
SECURITY: dict[str, SecurityScheme] = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}


def _require_reader(router: BaseRouter) -> None:
    if os.environ.get("PUBLIC_DOCS", "false") != "true" and caller_of(router) is None:
        raise Unauthenticated("The API description needs a bearer access token here.")


@app.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    _require_reader(app)
    body = app.get_openapi_json_schema(
        title=TITLE, version=VERSION, security_schemes=SECURITY, security=[{"bearerAuth": []}]
    )
    return Response(200, content_types.APPLICATION_JSON, body)


def _docs_guard(app: BaseRouter, next_middleware: object) -> Response[str]:
    _require_reader(app)
    return next_middleware(app)  # type: ignore[operator, no-any-return]


app.enable_swagger(
    path="/docs",
    title=TITLE,
    version=VERSION,
    security_schemes=SECURITY,
    security=[{"bearerAuth": []}],
    middlewares=[_docs_guard],
)

handler = entry_point(app.resolve, correlation_id_path=CORRELATION_ID)
