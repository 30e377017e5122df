"""Identity commands: register, sign in, change or reset a password, deactivate."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from domain.identity.commands import (
    ChangePassword,
    Deactivate,
    IssueToken,
    Register,
    RequestPasswordReset,
    ResetPassword,
)
from domain.identity.service import RESET_ANSWER_SECONDS, IdentityService
from functions.models import (
    Credentials,
    NewPassword,
    NewUser,
    ResetAccepted,
    ResetConfirmation,
    ResetRequest,
    TokenIssued,
    UserCreated,
    Versioned,
)
from functions.shared.auth import authenticate_first
from functions.shared.bodies import readable_bodies
from functions.shared.commands import Call, command
from functions.shared.http import http_app, no_sooner_than
from functions.shared.observability import CORRELATION_ID, entry_point, metrics

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
TAGS = ["identity"]


def _identity() -> IdentityService:
    from infra.container import container

    return container().identity


@command(
    router,
    "POST",
    "/users",
    UserCreated,
    400,
    409,
    status=201,
    signed_in=False,
    summary="Register a customer",
    tags=TAGS,
)
def register(body: NewUser, call: Call) -> dict[str, Any]:
    user = _identity().register(Register(body.email, body.password), call.context)
    metrics.add_metric(name="UsersRegistered", unit="Count", value=1)
    return {"id": user.id, "email": user.state.email, "version": user.version}


# What a replay of a sign-in answers: the same token, signed again from its receipt (its
# claims); the idempotency table never holds a token (docs/architecture.md, "Idempotency").
def _keep_receipt(answer: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in answer["body"].items() if k != "access_token"}
    receipt = _identity().tokens.receipt(answer["body"]["access_token"])
    return {"status": answer["status"], "body": rest, "receipt": receipt}


def _sign_again(kept: dict[str, Any]) -> dict[str, Any]:
    token = _identity().tokens.reissue(kept["receipt"])
    return {"status": kept["status"], "body": {"access_token": token, **kept["body"]}}


@command(
    router,
    "POST",
    "/auth/token",
    TokenIssued,
    400,
    401,
    429,
    signed_in=False,
    keep=_keep_receipt,
    replay=_sign_again,
    summary="Sign in: exchange email and password for an access token",
    tags=TAGS,
)
def issue_token(body: Credentials, call: Call) -> dict[str, Any]:
    source = router.current_event.request_context.http.source_ip
    issued = _identity().issue_token(IssueToken(body.email, body.password, source), call.context)
    return {
        "access_token": issued.token.value,
        "token_type": "Bearer",
        "expires_in": issued.token.expires_in,
        "version": issued.user.version,
    }


@command(
    router,
    "POST",
    "/users/me/password",
    Versioned,
    400,
    401,
    412,
    422,
    summary="Change your password (older tokens stop working)",
    tags=TAGS,
)
def change_password(body: NewPassword, call: Call) -> dict[str, Any]:
    user = _identity().change_password(ChangePassword(body.old_password, body.new_password), *call)
    return {"id": user.id, "version": user.version}


@command(
    router,
    "POST",
    "/auth/password-reset",
    ResetAccepted,
    400,
    429,
    status=202,
    signed_in=False,
    summary="Ask for a password-reset link by email (same answer, same time, known or not)",
    tags=TAGS,
)
def request_password_reset(body: ResetRequest, call: Call) -> dict[str, Any]:
    source = router.current_event.request_context.http.source_ip
    # Known or not, the answer leaves no sooner than this: what a known email costs more
    # (its user read, the reset recorded) does not show in the time.
    with no_sooner_than(RESET_ANSWER_SECONDS):
        _identity().request_password_reset(RequestPasswordReset(body.email, source), call.context)
    return {
        "status": "accepted",
        "message": "If an account has this email, a link to reset its password is on its way.",
    }


@command(
    router,
    "POST",
    "/auth/password-reset/confirm",
    Versioned,
    400,
    412,
    422,
    signed_in=False,
    summary="Set a new password with a reset link's token (older tokens stop working)",
    tags=TAGS,
)
def reset_password(body: ResetConfirmation, call: Call) -> dict[str, Any]:
    user = _identity().reset_password(ResetPassword(body.token, body.new_password), *call)
    return {"id": user.id, "version": user.version}


@command(
    router,
    "POST",
    "/users/<id>/deactivate",
    Versioned,
    401,
    403,
    404,
    412,
    422,
    summary="Deactivate a user (admin); their tokens stop working",
    tags=TAGS,
)
def deactivate(id: str, call: Call) -> dict[str, Any]:
    user = _identity().deactivate(Deactivate(id), *call)
    return {"id": user.id, "version": user.version}


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
