"""Identity commands: register, sign in, change password, deactivate."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from domain.identity.commands import ChangePassword, Deactivate, IssueToken, Register
from domain.identity.service import IdentityService
from domain.shared.context import CommandContext
from functions.models import Credentials, NewPassword, NewUser, TokenIssued, UserCreated, Versioned
from functions.shared.auth import authenticate_first, route
from functions.shared.bodies import readable_bodies
from functions.shared.commands import run_command
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point, metrics
from functions.shared.openapi import responses

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


def _identity() -> IdentityService:
    from infra.container import container

    return container().identity


@route(
    router,
    "POST",
    "/users",
    signed_in=False,
    summary="Register a customer",
    tags=["identity"],
    responses=responses(201, UserCreated, 400, 409),
)
def register(body: NewUser) -> Response[UserCreated]:
    def decide(context: CommandContext, _: int | None) -> dict[str, Any]:
        user = _identity().register(Register(body.email, body.password), context)
        metrics.add_metric(name="UsersRegistered", unit="Count", value=1)
        return {"id": user.id, "email": user.state.email, "version": user.version}

    return run_command(router, body.model_dump(), decide, status=201)


@route(
    router,
    "POST",
    "/auth/token",
    signed_in=False,
    summary="Sign in: exchange email and password for an access token",
    tags=["identity"],
    responses=responses(200, TokenIssued, 400, 401, 429),
)
def issue_token(body: Credentials) -> Response[TokenIssued]:
    def decide(context: CommandContext, _: int | None) -> dict[str, Any]:
        source = router.current_event.request_context.http.source_ip
        issued = _identity().issue_token(IssueToken(body.email, body.password, source), context)
        return {
            "access_token": issued.token.value,
            "token_type": "Bearer",
            "expires_in": issued.token.expires_in,
            "version": issued.user.version,
        }

    # What a replay of a sign-in answers: the same token, signed again from its receipt (its
    # claims); the idempotency table never holds a token (docs/api.md, "Idempotency-Key").
    def keep(answer: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in answer["body"].items() if k != "access_token"}
        receipt = _identity().tokens.receipt(answer["body"]["access_token"])
        return {"status": answer["status"], "body": rest, "receipt": receipt}

    def replay(kept: dict[str, Any]) -> dict[str, Any]:
        token = _identity().tokens.reissue(kept["receipt"])
        return {"status": kept["status"], "body": {"access_token": token, **kept["body"]}}

    return run_command(router, body.model_dump(), decide, keep=keep, replay=replay)


@route(
    router,
    "POST",
    "/users/me/password",
    signed_in=True,
    summary="Change your password (older tokens stop working)",
    tags=["identity"],
    responses=responses(200, Versioned, 400, 401, 412, 422),
)
def change_password(body: NewPassword) -> Response[Versioned]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        command = ChangePassword(body.old_password, body.new_password)
        user = _identity().change_password(command, context, expected)
        return {"id": user.id, "version": user.version}

    return run_command(router, body.model_dump(), decide)


@route(
    router,
    "POST",
    "/users/<id>/deactivate",
    signed_in=True,
    summary="Deactivate a user (admin); their tokens stop working",
    tags=["identity"],
    responses=responses(200, Versioned, 401, 403, 404, 412, 422),
)
def deactivate(id: str) -> Response[Versioned]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        user = _identity().deactivate(Deactivate(id), context, expected)
        return {"id": user.id, "version": user.version}

    return run_command(router, {"user_id": id}, decide)


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
