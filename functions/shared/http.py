"""The HTTP edge every API function shares, in the order a request meets it: the caller
(a refused token or an anonymous caller of a signed-in route answers 401 before the body is
read), a readable JSON body, the resolver with the contract's error answers, the command
edge (If-Match, Idempotency-Key, the ETag) and read-your-writes (`?min_version`).

One module, so that a request passes one file of edge between its entry point and its
route (docs/architecture.md draws it)."""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NamedTuple, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from domain.access import Caller, CommandContext, Role
from domain.errors import Detail, DomainError, InvalidValue, NotFound, Unauthenticated
from event_sourcing.errors import ConcurrencyError, VersionMismatch
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.views import InvalidCursor
from functions.shared.errors import (
    ViewBehind,
    domain_error_response,
    error_response,
    lambda_error_response,
)
from functions.shared.observability import CORRELATION_ID, Handler, entry_point, logger
from functions.shared.openapi import NO_CONTENT, complete, responses
from infra.container import Container
from infra.idempotency import Answer, unchanged

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_GATEWAY_PARAM = re.compile(r"<(\w+)>")  # Powertools' <id> is API Gateway's {id}

SIGN_IN_FIRST = "Sign in first: this needs a bearer access token."


def route(
    router: Routes, method: str, path: str, *, signed_in: bool, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route; `signed_in` routes refuse anonymous callers before validation."""
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


MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]


class _Unreadable(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Unreadable(f"the number {text[:20]} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise _Unreadable(f"{name} is not JSON")


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(current, dict):
            pending.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list):
            pending.extend((v, depth + 1) for v in current)
    return deepest


def _refusal(status: int, code: str, message: str) -> dict[str, Any]:
    response = error_response(status, code, message)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }


def refusal(event: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(a 4xx answer, or None) and the event with its body as UTF-8 text."""
    body = event.get("body")
    if body is None or body == "":
        return None, event
    try:
        raw = (
            base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        )
    except (binascii.Error, ValueError):
        return _refusal(400, "malformed_json", "The request body is not valid JSON."), event
    if len(raw) > MAX_BODY_BYTES:
        return _refusal(
            413, "payload_too_large", f"The request body is over {MAX_BODY_BYTES // 1024} KiB."
        ), event
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":  # the contract's 415: other types, `+json` ones too
        return _refusal(
            415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
        ), event
    # media types are case-insensitive; Powertools' validation reads only a lower-case
    # `application/json` as JSON (anything else would be its 500)
    headers["content-type"] = "application/json"
    try:
        text = raw.decode("utf-8")
        parsed = json.loads(text, parse_float=_finite, parse_constant=_no_constants)
        if _depth(parsed) > MAX_DEPTH:
            raise _Unreadable("nested too deeply")
    except UnicodeDecodeError:
        return _refusal(400, "malformed_json", "The request body is not UTF-8 text."), event
    except (ValueError, RecursionError):
        return _refusal(400, "malformed_json", "The request body is not valid JSON."), event
    return None, {**event, "headers": headers, "body": text, "isBase64Encoded": False}


def readable_bodies(resolve: Resolve) -> Resolve:
    """`resolve`, for requests whose body (if any) is readable JSON; a 4xx for the rest."""

    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refused, readable = refusal(event)
        return refused if refused is not None else resolve(readable, context)

    return run


WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05

Doc = dict[str, Any]

MinVersion = Annotated[
    int | None,
    Query(
        ge=1,
        description="Wait (about 3 s at most) until the view is this recent. 503 (with "
        "Retry-After) if it has not caught up with that version yet; 400 (min_version_ahead, "
        "the message names the latest version) if the stream has no such version.",
    ),
]


def read_view(
    read: Callable[[], Doc],
    min_version: int | None,
    *,
    head: Callable[[], int],
    admit: Callable[[Doc], object] | None = None,
) -> Doc:
    """`read()`, again until its `version` is at least `min_version` (about 3 s at most).

    Past the wait, `head()` (the stream's newest version, one small read of the event table)
    tells a view that is behind (503, retry) from a version that does not exist (400 naming
    the latest: retrying cannot help). `admit(doc)` may refuse first (another's order, an
    inactive product to the public: a 404), so a 400 tells nothing the caller may not see.
    The route admits the doc it is given as well: a view may still show what changed since
    (a product just activated), so it is waited for, not refused, until it is caught up."""
    deadline = time.monotonic() + WAIT_SECONDS
    missing: NotFound | None = None
    while True:
        try:
            doc: Doc | None = read()
        except NotFound as error:
            if min_version is None:
                raise
            doc, missing = None, error
        if min_version is None or (doc is not None and doc["version"] >= min_version):
            assert doc is not None
            return doc
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    latest = head()
    if latest == 0 and missing is not None:
        raise missing
    if latest < min_version and doc is not None:
        if admit is not None:
            admit(doc)
        raise InvalidValue(
            f"There is no version {min_version} yet: the latest is {latest}. "
            f"Ask for min_version={latest} or less.",
            code="min_version_ahead",
            details=[Detail("min_version", f"the latest version is {latest}")],
        )
    raise ViewBehind(f"This view has not caught up with version {min_version} yet: retry shortly.")


def view_response(doc: Doc) -> Response[Any]:
    """One aggregate's view, with its version as the ETag."""
    return json_response(doc, headers={"ETag": f'"{doc["version"]}"'})


def json_response(body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    """200 with `body`, which Powertools validates against the route's answer model (its
    `-> Response[Model]`) and serializes: what the document says is what is sent."""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers or {},
    )


Root = Container


class Routes(APIGatewayHttpRouter):
    """A function's routes (a Powertools router), knowing which of them refuse an anonymous
    caller before its body is read (`functions.shared.http.route`)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.signed_in: set[str] = set()
        """Route keys, as API Gateway names them ("POST /users/me/password")."""


def root_of(request: Request) -> Root:
    """The function's composition root, as its entry point handed it to this invocation."""
    return cast(Root, request.context["root"])


Services = Annotated[Root, Depends(root_of)]
"""A route's parameter: the composition root's services, for routes that use several."""


def _repository(request: Request) -> EventSourcedRepository:
    return root_of(request).repository


Repository = Annotated[EventSourcedRepository, Depends(_repository)]
"""A route's parameter: the event-sourced repository the use cases (plain functions) take."""


def http_function(*routers: Routes) -> tuple[APIGatewayHttpResolver, Handler]:
    """The resolver serving `routers` and the Lambda entry point in front of it: refused
    tokens and anonymous callers of signed-in routes first, then unreadable bodies, then
    the routes, each invocation handed the composition root (`root_of`)."""
    app = http_app(*routers)
    signed_in = set().union(*(router.signed_in for router in routers))
    guarded = authenticate_first(signed_in, readable_bodies(app.resolve))

    def resolve(event: dict[str, Any], context: Any, root: Root) -> Any:
        app.context["root"] = root
        return guarded(event, context)

    return app, entry_point(resolve, correlation_id_path=CORRELATION_ID)


def http_app(*routers: APIGatewayHttpRouter) -> APIGatewayHttpResolver:
    """A resolver serving `routers`, validating requests with pydantic, and answering every
    refusal as {"error": {"code", "message", "details"}}."""
    app = APIGatewayHttpResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def refused(error: DomainError) -> Response[str]:
        return domain_error_response(error)

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response[str]:
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "The request body is not valid JSON.")
        details = [_detail(e) for e in errors]
        return error_response(
            400, "invalid_request", "The request does not match the expected shape.", details
        )

    @app.exception_handler(VersionMismatch)
    def stale(error: VersionMismatch) -> Response[str]:
        return error_response(412, "version_mismatch", error.message)

    @app.exception_handler(InvalidCursor)
    def bad_cursor(error: InvalidCursor) -> Response[str]:
        return error_response(400, "invalid_cursor", str(error))

    @app.exception_handler(ConcurrencyError)
    def contended(error: ConcurrencyError) -> Response[str]:
        # Only once the repository's backoff budget is spent (seconds of constant collisions
        # on one aggregate): a conflict to retry, never a 503 (that is min_version's alone).
        return error_response(
            409,
            "write_contention",
            "This resource kept changing under this request: retry it.",
            headers={"Retry-After": "1"},
        )

    @app.not_found
    def no_route(error: NotFoundError) -> Response[str]:
        return error_response(404, "no_route", "No such route.")

    @app.exception_handler(Exception)
    def crashed(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")

    return app


def _detail(error: dict[str, Any]) -> dict[str, str]:
    """A validation error without the input that caused it: never echo a password."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    return {"field": ".".join(location) or "body", "issue": str(error.get("msg", "invalid"))}


@contextmanager
def no_sooner_than(
    seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Leave the block no sooner than `seconds` after entering it, raising or not: an
    answer whose time must not tell which way the work went."""
    started = clock()
    try:
        yield
    finally:
        left = seconds - (clock() - started)
        if left > 0:
            sleep(left)


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
    statuses every command can answer are added by `route`), behind the command edge. A
    route whose function takes no `body` refuses one that has fields."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        edge: list[BaseMiddlewareHandler[ApiGatewayResolver]] = [CommandEdge(status, keep, replay)]
        if "body" not in inspect.signature(function).parameters:
            edge.insert(0, NoBody())
        return route(
            router,
            method,
            path,
            signed_in=signed_in,
            responses=responses(status, answer, *refusals),
            middlewares=edge,
            **options,
        )(function)

    return register


class NoBody(BaseMiddlewareHandler[ApiGatewayResolver]):
    """The contract's 400 for unknown fields, on a route that takes no body (Powertools
    validates only the bodies routes declare): an empty body or `{}` is no body."""

    def handler(self, app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        body = _event(app).body  # readable JSON by now (`refusal`)
        parsed = json.loads(body) if body else {}
        if parsed != {}:
            fields = list(parsed) if isinstance(parsed, dict) else ["body"]
            raise InvalidValue(
                "The request does not match the expected shape.",
                code="invalid_request",
                details=[Detail(f, "This route takes no body: send none") for f in fields],
            )
        return next_middleware(app)
