"""Rules for the values a user gives us: an email address and a password."""

from __future__ import annotations

import re

from domain.errors import Detail, InvalidValue

MAX_EMAIL_LENGTH = 254
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MAX_TOKEN_LENGTH = 512
"""A reset link's token as a client may send it back (ours are far shorter)."""

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalize_email(raw: str) -> str:
    """The address as given (trimmed), if it is one; raises `InvalidValue` otherwise."""
    email = raw.strip()
    local, at, domain = email.rpartition("@")
    labels = domain.split(".")
    if (
        len(email) > MAX_EMAIL_LENGTH
        or not at
        or not _LOCAL.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not labels[-1].isalpha()
    ):
        raise InvalidValue(
            "That is not a valid email address.",
            code="invalid_email",
            details=[Detail("email", "must be an address like name@example.com")],
        )
    return email


def email_key(email: str) -> str:
    """The form under which emails are unique: case-insensitive."""
    return email.strip().lower()


def check_password(password: str, *, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            code="password_too_short",
            details=[Detail(field, f"at least {MIN_PASSWORD_LENGTH} characters")],
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidValue(
            f"The password may have at most {MAX_PASSWORD_LENGTH} characters.",
            code="password_too_long",
            details=[Detail(field, f"at most {MAX_PASSWORD_LENGTH} characters")],
        )
    return password
