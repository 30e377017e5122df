"""What every command route does around the core: If-Match in, Idempotency-Key replay,
the new version out in the body and as an ETag."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from domain.shared.context import CommandContext
from domain.shared.errors import Detail, InvalidValue
from functions.shared.auth import command_context
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


def run_command(
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
        headers={"ETag": f'"{answer["body"]["version"]}"'},
    )
