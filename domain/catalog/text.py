"""Rules for the words an admin or a customer gives the catalogue: names, texts."""

from __future__ import annotations

import unicodedata

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


def fold(text: str) -> str:
    """The form under which text is searched: Unicode-normalised and case-folded, so that
    "CAFÉ", "café" and "cafe\u0301" (an e and a combining accent) are one word.

    NFKC composes what can be composed (and maps compatibility forms, like the ligature
    "\ufb01" or a full-width "\uff21", to their plain letters); case folding is Unicode's
    caseless matching ("ß" is "ss"), which can leave text that is no longer normalised
    (it may decompose), hence NFKC again (Unicode's "NFKC_Casefold" recipe, less the
    removal of ignorable characters). The index and the query both go through it."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
