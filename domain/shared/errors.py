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


class VersionMismatch(DomainError):
    """The caller named a version that is not the current one (412)."""

    default_code = "version_mismatch"

    def __init__(self, *, expected: int, actual: int) -> None:
        super().__init__(
            f"The resource is at version {actual}, not {expected}: "
            "read it again and retry with the current version."
        )
        self.expected = expected
        self.actual = actual


class RuleViolation(DomainError):
    """Well-formed, but a business rule refuses it (422)."""

    default_code = "rule_violation"


class TooManyAttempts(DomainError):
    """Too many failed attempts; the caller must wait (429)."""

    default_code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ConcurrencyError(Exception):
    """Another writer appended to the stream first. Not a refusal: reload and decide again.

    `actual` is the version the store reported at the conflict: at least `expected + 1`."""

    def __init__(self, stream_id: str, *, expected: int, actual: int) -> None:
        super().__init__(
            f"Stream {stream_id!r} moved on: expected version {expected}, found {actual}."
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class UniquenessViolation(Exception):
    """A unique claim (an email, a product name) is already held by another stream."""

    def __init__(self, namespace: str, value: str, owner: str) -> None:
        super().__init__(f"{namespace} {value!r} is already held by {owner!r}")
        self.namespace = namespace
        self.value = value
        self.owner = owner


class KeyRetired(ConcurrencyError):
    """A hold was taken on a retired key (an order took a product deleted meanwhile).
    Not a refusal yet: reload, and the domain refuses on fresh state."""

    def __init__(self, namespace: str, key: str) -> None:
        super().__init__(f"hold#{namespace}#{key}", expected=0, actual=0)
        self.args = (f"{namespace} {key!r} is retired: it cannot be held any more",)
        self.namespace = namespace
        self.key = key


class KeyHeld(Exception):
    """A key cannot be retired while streams hold it (a product some order holds)."""

    def __init__(self, namespace: str, key: str) -> None:
        super().__init__(f"{namespace} {key!r} is held: it cannot be retired")
        self.namespace = namespace
        self.key = key
