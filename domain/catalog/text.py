"""Rules for the words an admin or a customer gives the catalogue: names, texts."""

from __future__ import annotations

from domain.errors import Detail, InvalidValue


def check_text(raw: str, *, field: str, code: str, max_length: int, min_length: int = 0) -> str:
    """`raw` trimmed, if its length is within bounds; raises `InvalidValue` otherwise."""
    text = raw.strip()
    if not min_length <= len(text) <= max_length:
        bounds = (
            f"between {min_length} and {max_length} characters"
            if min_length
            else f"at most {max_length} characters"
        )
        raise InvalidValue(
            f"The {field} must have {bounds}.", code=code, details=[Detail(field, bounds)]
        )
    return text


def name_key(name: str) -> str:
    """The form under which names are unique: trimmed, case-insensitive."""
    return name.casefold().strip()
