"""The OpenAPI document as the API answers: every status a route can answer with its body's
schema, the headers commands take and give, and nothing Powertools adds that we never send."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseHeader,
)
from pydantic import BaseModel

from functions.models import ErrorAnswer

Responses = dict[int, OpenAPIResponse]
NO_CONTENT = 204
"""A command that leaves nothing to show (an erasure): its answer model still names the
version, which goes out as the ETag alone, with no body."""

_REASONS = {
    400: "Malformed JSON, wrong types, missing or unknown fields, out-of-range values",
    401: "No token, or a token that is invalid, expired or revoked",
    403: "Authenticated but not allowed",
    404: "No such resource, or not visible to the caller",
    409: "Uniqueness conflict, or an Idempotency-Key reused with a different body or still "
    "in progress (then with Retry-After)",
    412: "If-Match names a version that is not the current one",
    413: "A body over 64 KiB",
    415: "A body that is not application/json",
    422: "Refused by a business rule",
    429: "Too many failed attempts",
    503: "The view has not caught up with ?min_version yet (a version that exists: retry); "
    "a version past the stream's latest is a 400 naming the latest",
}
ALWAYS = (400, 401)
"""Any route: a malformed query, path or header; a refused token (even on a public route)."""
COMMAND = (409, 412, 413, 415)
"""Any command: Idempotency-Key conflicts, If-Match, and what is wrong with a body."""
COMMAND_METHODS = ("POST", "PUT", "DELETE")

_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'The version the change is meant for, like "3": 412 when it is not current.',
    "schema": {"type": "string", "pattern": r'^(W/)?"?\d{1,18}"?$|^\*$'},
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and body answers the first answer and appends "
    "nothing (kept 24 h).",
    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
}
_ETAG = {
    "description": 'The aggregate\'s new version, like "3"',
    "schema": {"type": "string"},
}
_VIEW_ETAG: OpenAPIResponseHeader = {
    "description": 'The version of the aggregate the view shows, like "3"',
    "schema": {"type": "string"},
}
_RETRY_AFTER = {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}


def error(status: int) -> OpenAPIResponse:
    return {
        "description": _REASONS[status],
        "content": {"application/json": {"model": ErrorAnswer}},
    }


def responses(ok: int, model: type[BaseModel], *errors: int, etag: bool = False) -> Responses:
    """The route's answer and the refusals particular to it; `complete` adds the rest.
    `etag`: the answer is one aggregate's view, sent with its version as the ETag."""
    documented: Responses = {
        ok: {"description": "Done", "content": {"application/json": {"model": model}}}
        if ok != NO_CONTENT
        else {"description": "Done: nothing to answer but the version, in the ETag"}
    }
    if etag:
        documented[ok]["headers"] = {"ETag": _VIEW_ETAG}
    for status in errors:
        documented[status] = error(status)
    return documented


def complete(documented: Responses, method: str) -> Responses:
    """`documented` with the refusals every route (and every command) can answer."""
    implied = ALWAYS + (COMMAND if method.upper() in COMMAND_METHODS else ())
    return {**{s: error(s) for s in implied if s not in documented}, **documented}


def as_answered(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document, corrected to what the API answers: no 422 "Validation Error"
    (a request that fails validation is our 400), the command headers, Retry-After."""
    schemas = document.get("components", {}).get("schemas", {})
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = operation["responses"]
            phantom = answers.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(phantom.get("schema", {})):
                del answers["422"]
            for status in ("409", "429", "503"):
                if status in answers:
                    answers[status].setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
            # Powertools documents the route's return model; a 204 goes out without it.
            answers.get(str(NO_CONTENT), {}).pop("content", None)
            if method.upper() in COMMAND_METHODS:
                parameters = operation.setdefault("parameters", [])
                parameters += [_IF_MATCH, _IDEMPOTENCY_KEY]
                for status, answer in answers.items():
                    if status == str(NO_CONTENT) or (
                        status.startswith("2") and _names_version(answer, schemas)
                    ):
                        answer.setdefault("headers", {})["ETag"] = _ETAG
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def _names_version(answer: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether an answer's body names an aggregate's version (then it has an ETag)."""
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    name = str(schema.get("$ref", "")).rpartition("/")[2]
    return "version" in schemas.get(name, schema).get("properties", {})
