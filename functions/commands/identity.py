"""Identity commands: register, sign in, change or reset a password, deactivate, erase."""

from __future__ import annotations

from typing import Any

from domain.identity import service as identity
from domain.identity.commands import (
    ChangePassword,
    Deactivate,
    EraseUser,
    IssueToken,
    Register,
    RequestPasswordReset,
    ResetPassword,
)
from domain.identity.service import RESET_ANSWER_SECONDS
from event_sourcing.personal import ERASED
from functions.models import (
    Credentials,
    Erasure,
    NewPassword,
    NewUser,
    ResetAccepted,
    ResetConfirmation,
    ResetRequest,
    TokenIssued,
    UserCreated,
    Versioned,
)
from functions.shared.http import (
    Calling,
    Root,
    Routes,
    Services,
    command,
    http_function,
    no_sooner_than,
)
from functions.shared.observability import metrics
from functions.shared.openapi import NO_CONTENT

router = Routes()
ERASURE = (
    "Erasure: the user's personal data (email, password hashes, review comments) becomes "
    "unreadable everywhere, their tokens stop working, sign-in answers 401 and the email can "
    "register again. Orders stay for the books, naming nobody; reviews keep their rating. "
    "Answers 204 with the user's last version as the ETag; an admin's repeat answers 204 "
    "and changes nothing (it finishes an erasure cut short)."
)
TAGS = ["identity"]


# A registration's answer names the address: what the idempotency table keeps of it is
# sealed under the new user's key, so an erasure leaves it unreadable there too.
def _seal_email(answer: dict[str, Any], root: Root) -> dict[str, Any]:
    body = answer["body"]
    sealed = root.personal_data.seal(body["id"], body["email"])
    return {"status": answer["status"], "body": {**body, "email": sealed}}


def _open_email(kept: dict[str, Any], root: Root) -> dict[str, Any]:
    body = kept["body"]
    email = root.personal_data.open(body["email"])
    return {"status": kept["status"], "body": {**body, "email": email or ERASED}}


@command(
    router,
    "POST",
    "/users",
    UserCreated,
    400,
    409,
    status=201,
    signed_in=False,
    keep=_seal_email,
    replay=_open_email,
    summary="Register a customer",
    tags=TAGS,
)
def register(body: NewUser, call: Calling, services: Services) -> UserCreated:
    user = identity.register(
        services.repository,
        services.hasher,
        services.pseudonyms,
        Register(body.email, body.password),
        call.context,
    )
    metrics.add_metric(name="UsersRegistered", unit="Count", value=1)
    return UserCreated(id=user.id, email=user.state.email, version=user.visible_version)


# What a replay of a sign-in answers: the same token, signed again from its receipt (its
# claims); the idempotency table never holds a token (docs/architecture.md, "Idempotency").
def _keep_receipt(answer: dict[str, Any], root: Root) -> dict[str, Any]:
    rest = {k: v for k, v in answer["body"].items() if k != "access_token"}
    receipt = root.tokens.receipt(answer["body"]["access_token"])
    return {"status": answer["status"], "body": rest, "receipt": receipt}


def _sign_again(kept: dict[str, Any], root: Root) -> dict[str, Any]:
    token = root.tokens.reissue(kept["receipt"])
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
def issue_token(body: Credentials, call: Calling, services: Services) -> TokenIssued:
    source = router.current_event.request_context.http.source_ip
    issued = identity.issue_token(
        services.repository,
        services.hasher,
        services.tokens,
        services.failed_logins,
        services.pseudonyms,
        IssueToken(body.email, body.password, source),
        call.context,
    )
    return TokenIssued(
        access_token=issued.token.value,
        token_type="Bearer",
        expires_in=issued.token.expires_in,
        version=issued.user.visible_version,
    )


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
def change_password(body: NewPassword, call: Calling, services: Services) -> Versioned:
    user = identity.change_password(
        services.repository,
        services.hasher,
        ChangePassword(body.old_password, body.new_password),
        *call,
    )
    return Versioned(id=user.id, version=user.visible_version)


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
def request_password_reset(body: ResetRequest, call: Calling, services: Services) -> ResetAccepted:
    source = router.current_event.request_context.http.source_ip
    # Known or not, the answer leaves no sooner than this: what a known email costs more
    # (its user read, the reset recorded) does not show in the time.
    with no_sooner_than(RESET_ANSWER_SECONDS):
        identity.request_password_reset(
            services.repository,
            services.failed_logins,
            services.pseudonyms,
            RequestPasswordReset(body.email, source),
            call.context,
        )
    return ResetAccepted(
        status="accepted",
        message="If an account has this email, a link to reset its password is on its way.",
    )


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
def reset_password(body: ResetConfirmation, call: Calling, services: Services) -> Versioned:
    user = identity.reset_password(
        services.repository,
        services.hasher,
        services.reset_tokens,
        ResetPassword(body.token, body.new_password),
        *call,
    )
    return Versioned(id=user.id, version=user.visible_version)


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
def deactivate(id: str, call: Calling, services: Services) -> Versioned:
    user = identity.deactivate(services.repository, Deactivate(id), *call)
    return Versioned(id=user.id, version=user.visible_version)


@command(
    router,
    "DELETE",
    "/users/me",
    Versioned,
    401,
    412,
    status=NO_CONTENT,
    summary="Erase your account and personal data, with your password (the right to erasure)",
    description=ERASURE,
    tags=TAGS,
)
def erase_me(body: Erasure, call: Calling, services: Services) -> Versioned:
    user_id = call.context.require_caller().user_id
    user = identity.erase(
        services.repository,
        services.hasher,
        services.failed_logins,
        services.pseudonyms,
        services.personal_data.erase,
        EraseUser(user_id, body.password),
        call.context,
    )
    return Versioned(id=user.id, version=user.visible_version)


@command(
    router,
    "DELETE",
    "/users/<id>",
    Versioned,
    401,
    403,
    404,
    412,
    status=NO_CONTENT,
    summary="Erase a user's account and personal data (admin)",
    description=ERASURE,
    tags=TAGS,
)
def erase_user(id: str, call: Calling, services: Services) -> Versioned:
    user = identity.erase(
        services.repository,
        services.hasher,
        services.failed_logins,
        services.pseudonyms,
        services.personal_data.erase,
        EraseUser(id),
        call.context,
    )
    return Versioned(id=user.id, version=user.visible_version)


app, handler = http_function(router)
