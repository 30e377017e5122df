"""The one error shape of the API, and the status of each refusal."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidValue,
    NotFound,
    RuleViolation,
    TooManyAttempts,
    Unauthenticated,
)

STATUS: dict[type[DomainError], int] = {
    InvalidValue: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RuleViolation: 422,
    TooManyAttempts: 429,
}


class ViewBehind(DomainError):
    """The view has not caught up with the version the caller asked for (503)."""

    default_code = "view_behind"


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers or {},
    )


def lambda_error_response(error: DomainError) -> dict[str, Any]:
    """The same answer as `domain_error_response`, as the Lambda proxy result itself."""
    response = domain_error_response(error)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


def domain_error_response(error: DomainError) -> Response[str]:
    headers: dict[str, str] = {}
    status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 500)
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, Conflict) and error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if isinstance(error, ViewBehind):
        status = 503
        headers["Retry-After"] = "1"
    details = [{"field": d.field, "issue": d.issue} for d in error.details]
    return error_response(status, error.code, error.message, details, headers)
