"""Who is calling: read from what the authorizer put in the request context.

The authorizer never denies (HTTP APIs cannot shape a denial): it passes either the caller
or the reason the token was refused, and this module turns the latter into a 401."""

from __future__ import annotations

from typing import cast

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from domain.shared.context import Caller, CommandContext, Role
from domain.shared.errors import Unauthenticated


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
