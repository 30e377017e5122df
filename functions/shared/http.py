"""An HTTP API resolver with the contract's error handling, shared by every function."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from domain.errors import DomainError
from event_sourcing.errors import ConcurrencyError, VersionMismatch
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.views import InvalidCursor
from functions.shared.auth import authenticate_first
from functions.shared.bodies import readable_bodies
from functions.shared.errors import domain_error_response, error_response
from functions.shared.observability import CORRELATION_ID, Handler, entry_point, logger
from infra.container import Container

Root = Container


class Routes(APIGatewayHttpRouter):
    """A function's routes (a Powertools router), knowing which of them refuse an anonymous
    caller before its body is read (`functions.shared.auth.route`)."""

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
