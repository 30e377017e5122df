"""The refusals the core raises. Each maps to one HTTP status of the contract; the mapping
lives at the edge (functions/), the meaning lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Detail:
    """One precise complaint about the input: which field, and what is wrong with it."""

    field: str
    issue: str


class DomainError(Exception):
    """Base of every refusal. `code` is snake_case and stable; `message` is a sentence."""

    default_code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, details: Sequence[Detail] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = tuple(details)


class InvalidValue(DomainError):
    """A value is malformed or out of range (400)."""

    default_code = "invalid_value"


class Unauthenticated(DomainError):
    """The caller could not be identified, or its credentials no longer hold (401)."""

    default_code = "unauthenticated"


class Forbidden(DomainError):
    """The caller is known but may not do this (403)."""

    default_code = "forbidden"


class NotFound(DomainError):
    """No such resource, or not visible to this caller (404)."""

    default_code = "not_found"


class Conflict(DomainError):
    """A uniqueness rule refuses the change, or the same request is still being decided
    (409; then `retry_after_seconds` says when to try again)."""

    default_code = "conflict"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Sequence[Detail] = (),
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after_seconds = retry_after_seconds


class RuleViolation(DomainError):
    """Well-formed, but a business rule refuses it (422)."""

    default_code = "rule_violation"


class TooManyAttempts(DomainError):
    """Too many failed attempts; the caller must wait (429)."""

    default_code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
