"""OpenAPI fragments shared by the routes: response documentation only."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from functions.models import ErrorAnswer

Responses = dict[int, OpenAPIResponse]

_REASONS = {
    400: "Malformed JSON, wrong types, missing or unknown fields, out-of-range values",
    401: "No token, or a token that is invalid, expired or revoked",
    403: "Authenticated but not allowed",
    404: "No such resource, or not visible to the caller",
    409: "Uniqueness conflict, or an Idempotency-Key reused with a different body",
    412: "If-Match names a version that is not the current one",
    422: "Refused by a business rule",
    429: "Too many failed attempts",
    503: "The view has not caught up with ?min_version yet",
}


def responses(ok: int, model: type[BaseModel], *errors: int) -> Responses:
    documented: Responses = {
        ok: {
            "description": "Done",
            "content": {"application/json": {"model": model}},
        }
    }
    for status in errors:
        documented[status] = {
            "description": _REASONS[status],
            "content": {"application/json": {"model": ErrorAnswer}},
        }
    return documented
