"""The HTTP API's Lambda authorizer (REQUEST, payload 2.0, simple responses).

It never denies: HTTP APIs answer a denial with a bare 403 that the contract does not
allow. It verifies the bearer token against the user's current state (so a deactivation
or a password change takes effect on the next request) and hands the functions either
the caller or the reason the token was refused."""

from __future__ import annotations

from typing import Any

from domain.errors import Unauthenticated
from domain.identity import service as identity
from functions.shared.observability import entry_point, logger, metrics
from infra.container import Container as Root


def authorize(event: dict[str, Any], context: Any, root: Root) -> dict[str, Any]:
    header = (event.get("headers") or {}).get("authorization")
    if not header:
        return {"isAuthorized": True, "context": {}}
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _refused(
            "malformed_authorization", "Send the token as: Authorization: Bearer <token>."
        )
    try:
        caller = identity.authenticate(root.repository, root.tokens, token.strip())
    except Unauthenticated as refused:
        metrics.add_metric(name="TokensRefused", unit="Count", value=1)
        logger.info("token refused", extra={"reason": refused.code})
        return _refused(refused.code, refused.message)
    return {"isAuthorized": True, "context": {"user_id": caller.user_id, "role": caller.role.value}}


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"isAuthorized": True, "context": {"error_code": code, "error_message": message}}


handler = entry_point(authorize, correlation_id_path="requestContext.requestId")
