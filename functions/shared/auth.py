"""Who is calling: read from what the authorizer put in the request context.

The authorizer never denies (HTTP APIs cannot shape a denial): it passes either the caller
or the reason the token was refused, and this module turns the latter into a 401, before
the request body is even looked at."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from domain.access import Caller, CommandContext, Role
from domain.errors import Unauthenticated
from functions.shared.errors import lambda_error_response

if TYPE_CHECKING:
    from functions.shared.http import Routes

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_GATEWAY_PARAM = re.compile(r"<(\w+)>")  # Powertools' <id> is API Gateway's {id}

SIGN_IN_FIRST = "Sign in first: this needs a bearer access token."


def route(
    router: Routes, method: str, path: str, *, signed_in: bool, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route; `signed_in` routes refuse anonymous callers before validation."""
    from functions.shared.openapi import complete

    if signed_in:
        router.signed_in.add(method + " " + _GATEWAY_PARAM.sub(r"{\1}", path))
        options["security"] = BEARER
    options["responses"] = complete(options.get("responses") or {}, method)
    decorator: Callable[[Callable[..., Any]], Callable[..., Any]] = router.route(
        path, method, **options
    )
    return decorator


def authenticate_first(
    signed_in: set[str],
    resolve: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """401 for a refused token anywhere, or no token on one of the `signed_in` routes (route
    keys), then `resolve`."""

    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
        caller = authorizer.get("lambda") or {}
        if "error_code" in caller:
            refused = Unauthenticated(
                str(caller.get("error_message")), code=str(caller["error_code"])
            )
            return lambda_error_response(refused)
        if event.get("routeKey") in signed_in and "user_id" not in caller:
            return lambda_error_response(Unauthenticated(SIGN_IN_FIRST))
        return resolve(event, context)

    return run


def caller_of(app: BaseRouter) -> Caller | None:
    """The authenticated caller; None if no token was sent; 401 if a bad one was."""
    context = _event(app).request_context.authorizer.get_lambda or {}
    if "error_code" in context:
        raise Unauthenticated(
            str(context.get("error_message", "")), code=str(context["error_code"])
        )
    if "user_id" not in context:
        return None
    return Caller(str(context["user_id"]), Role(str(context["role"])))


def command_context(app: BaseRouter) -> CommandContext:
    """Correlation id from the caller's X-Correlation-Id if given, else the request id."""
    event = _event(app)
    request_id = event.request_context.request_id
    correlation = (event.headers or {}).get("x-correlation-id") or request_id
    return CommandContext(correlation[:128], request_id, caller_of(app))


def _event(app: BaseRouter) -> APIGatewayProxyEventV2:
    return cast(APIGatewayProxyEventV2, app.current_event)
