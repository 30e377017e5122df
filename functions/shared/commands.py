"""The one command edge: If-Match in, Idempotency-Key replay, the new version out in the
body and as an ETag, around every command route (`@command`)."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from domain.access import CommandContext
from domain.errors import Detail, InvalidValue
from functions.shared.auth import command_context, route
from functions.shared.openapi import responses
from infra.idempotency import Answer, unchanged

Decide = Callable[[CommandContext, int | None], dict[str, Any]]

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


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


def _run(
    app: BaseRouter,
    body: Any,
    decide: Decide,
    *,
    status: int = 200,
    keep: Callable[[Answer], Answer] = unchanged,
    replay: Callable[[Answer], Answer] = unchanged,
) -> Response[Any]:
    """Run `decide(context, expected_version)` once per Idempotency-Key, and answer its
    result (which names the aggregate's new `version`) with an ETag.

    A replay answers `replay(keep(first answer))`: a route whose answer holds a secret
    keeps something from which to give it again instead."""
    from infra.container import container

    context = command_context(app)
    expected = expected_version(app)
    key = idempotency_key(app)

    def compute() -> dict[str, Any]:
        return {"status": status, "body": decide(context, expected)}

    if key is None:
        answer = compute()
    else:
        event = cast(APIGatewayProxyEventV2, app.current_event)
        caller = context.caller.user_id if context.caller else "anonymous"
        scope = f"{event.request_context.http.method} {event.raw_path} {caller}"
        request = {"body": body, "if_match": expected}
        answer = container().idempotency.run(
            scope, key, request, compute, app.lambda_context, keep=keep, replay=replay
        )
    # The body as an object: Powertools validates it against the route's answer model
    # (`-> Response[Model]`) and serializes it, replays included.
    return Response(
        status_code=answer["status"],
        content_type=content_types.APPLICATION_JSON,
        body=answer["body"],
        # An answer naming no aggregate (a reset request: it must not tell whether one
        # exists) has no version to tag.
        headers={"ETag": f'"{answer["body"]["version"]}"'} if "version" in answer["body"] else {},
    )


class Call(NamedTuple):
    """What the edge hands a command route: `service.method(command, *call)`."""

    context: CommandContext
    expected: int | None


UseCase = Callable[..., dict[str, Any]]


def command(
    router: BaseRouter,
    method: str,
    path: str,
    answer: type[BaseModel],
    *refusals: int,
    status: int = 200,
    signed_in: bool = True,
    keep: Callable[[Answer], Answer] = unchanged,
    replay: Callable[[Answer], Answer] = unchanged,
    **options: Any,
) -> Callable[[UseCase], UseCase]:
    """Register `use(**path_params, body=Model, call=Call)` as a command route answering
    `status` with `answer`, or one of `refusals` (the statuses every command can answer are
    added by `route`). The fingerprint an Idempotency-Key guards is the path parameters and
    the body; the edge answers `use`'s dict, which names the aggregate's new `version`."""

    def register(use: UseCase) -> UseCase:
        # Powertools reads a handler's signature to bind and document its parameters: it is
        # handed `use`'s, resolved (the modules use `from __future__ import annotations`),
        # without the injected `call`, and answering `Response[answer]`.
        hints = typing.get_type_hints(use)
        parameters = [
            parameter.replace(annotation=hints[name])
            for name, parameter in inspect.signature(use).parameters.items()
            if name != "call"
        ]

        def edge(**arguments: Any) -> Response[Any]:
            request: dict[str, Any] = {}
            for name, value in arguments.items():
                if isinstance(value, BaseModel):
                    request.update(value.model_dump())
                else:
                    request[name] = value
            return _run(
                router,
                request,
                lambda context, expected: use(**arguments, call=Call(context, expected)),
                status=status,
                keep=keep,
                replay=replay,
            )

        edge.__name__ = use.__name__
        edge.__qualname__ = use.__qualname__
        edge.__doc__ = use.__doc__
        edge.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters,
            return_annotation=Response[answer],  # type: ignore[valid-type]
        )
        route(
            router,
            method,
            path,
            signed_in=signed_in,
            responses=responses(status, answer, *refusals),
            **options,
        )(edge)
        return use

    return register
