"""The one command edge, a Powertools middleware around every command route: If-Match in,
Idempotency-Key replay, the new version out in the body and as an ETag. A route declares
what it needs in its signature: its path parameters, its body (one pydantic model), the
`Calling` dependency (who calls, the version If-Match names) and its services."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from domain.access import CommandContext
from domain.errors import Detail, InvalidValue
from functions.shared.auth import command_context, route
from functions.shared.http import Routes
from functions.shared.openapi import NO_CONTENT, responses
from infra.container import Container as Root
from infra.idempotency import Answer, unchanged

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

Keep = Callable[[Answer, Root], Answer]


def expected_version(app: BaseRouter) -> int | None:
    """The version named by If-Match ("5", W/"5" or 5), if any."""
    raw = (app.current_event.headers or {}).get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    match = _ETAG.match(raw.strip())
    if not match:
        raise InvalidValue(
            'If-Match must name one version, like "3".',
            code="invalid_if_match",
            details=[Detail("If-Match", 'one ETag, like "3"')],
        )
    return int(match.group(1))


def idempotency_key(app: BaseRouter) -> str | None:
    raw = (app.current_event.headers or {}).get("idempotency-key")
    if raw is None:
        return None
    if not _KEY.match(raw):
        raise InvalidValue(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            code="invalid_idempotency_key",
            details=[Detail("Idempotency-Key", "1 to 255 visible ASCII characters")],
        )
    return raw


class Call(NamedTuple):
    """What the edge hands a command route: `service.method(command, *call)`."""

    context: CommandContext
    expected: int | None


def _call(request: Request) -> Call:
    return cast(Call, request.context["call"])


Calling = Annotated[Call, Depends(_call)]
"""A command route's parameter: who calls and the version its If-Match names."""


def _keep_as_is(answer: Answer, root: Root) -> Answer:
    return unchanged(answer)


class CommandEdge(BaseMiddlewareHandler[ApiGatewayResolver]):
    """Runs its route once per Idempotency-Key and answers the route's answer model (which
    names the aggregate's new `version`) with `status` and an ETag.

    A replay answers `replay(keep(first answer))`: a route whose answer holds a secret keeps
    something from which to give it again instead. The fingerprint a key guards is the
    route's validated arguments (path parameters and body) and If-Match: Powertools'
    request validation leaves them in `app.context["_route_args"]` before any route
    middleware runs (aws-lambda-powertools 3.x, pinned in pyproject.toml)."""

    def __init__(self, status: int, keep: Keep, replay: Keep) -> None:
        super().__init__()
        self.status, self.keep, self.replay = status, keep, replay

    def handler(self, app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        call = Call(command_context(app), expected_version(app))
        key = idempotency_key(app)
        app.context["call"] = call

        def compute() -> Answer:
            # Powertools has validated and serialized the route's answer model by now.
            return {"status": self.status, "body": next_middleware(app).body}

        if key is None:
            answer = compute()
        else:
            root = cast(Root, app.context["root"])
            event = cast(APIGatewayProxyEventV2, app.current_event)
            caller = call.context.caller.user_id if call.context.caller else "anonymous"
            scope = f"{event.request_context.http.method} {event.raw_path} {caller}"
            request = {
                "body": _fingerprinted(app.context["_route_args"]),
                "if_match": call.expected,
            }
            answer = root.idempotency.run(
                scope,
                key,
                request,
                compute,
                app.lambda_context,
                keep=lambda first: self.keep(first, root),
                replay=lambda kept: self.replay(kept, root),
            )
        if answer["status"] == NO_CONTENT:  # the version is in the ETag alone
            return Response(NO_CONTENT, headers={"ETag": f'"{answer["body"]["version"]}"'})
        return Response(
            status_code=answer["status"],
            content_type=content_types.APPLICATION_JSON,
            body=answer["body"],
            # An answer naming no aggregate (a reset request: it must not tell whether one
            # exists) has no version to tag.
            headers={"ETag": f'"{answer["body"]["version"]}"'}
            if "version" in answer["body"]
            else {},
        )


def _fingerprinted(arguments: dict[str, Any]) -> dict[str, Any]:
    """The request as its fingerprint sees it: path parameters, and the body's fields."""
    request: dict[str, Any] = {}
    for name, value in arguments.items():
        if isinstance(value, BaseModel):
            request.update(value.model_dump())
        else:
            request[name] = value
    return request


def command(
    router: Routes,
    method: str,
    path: str,
    answer: type[BaseModel],
    *refusals: int,
    status: int = 200,
    signed_in: bool = True,
    keep: Keep = _keep_as_is,
    replay: Keep = _keep_as_is,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command route answering `status` with `answer`, or one of `refusals` (the
    statuses every command can answer are added by `route`), behind the command edge."""
    return route(
        router,
        method,
        path,
        signed_in=signed_in,
        responses=responses(status, answer, *refusals),
        middlewares=[CommandEdge(status, keep, replay)],
        **options,
    )
