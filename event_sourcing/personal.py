"""Personal data in an immutable log: crypto-shredding.

Events are kept for ever, so what identifies a person (an email, a password hash, a comment
they wrote) is stored in them sealed under that person's own data key, never in clear. To
erase the person, destroy the key: every copy of the sealed text, in the event table, its
24-hour stream and its backups, becomes unreadable at once, while the events themselves
stay, replay and keep their versions. A sealed field of an erased subject reads as `None`.

The data key is AES-256, used with AES-GCM (`cryptography`); its nonce is random per
seal, and the subject's id is bound in as associated data, so a sealed text copied into
another subject's event does not open."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pd1:"
"""What a sealed text starts with (the format's version); anything else is clear text
written before personal data was sealed, read as it is until it is migrated."""

ERASED = "[erased]"
"""How an erased personal field is shown to people (an API answer, an export)."""

KEY_BYTES = 32
_NONCE_BYTES = 12


class SubjectErased(Exception):
    """The subject's data key was destroyed: nothing can be sealed for them any more."""

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject {subject!r} was erased: their data key is destroyed and no new personal "
            "data can be stored for them. Register them again under a new id."
        )
        self.subject = subject


class KeyStore(Protocol):
    """Each subject's data key, created once and destroyed by erasure.

    `create` is idempotent (it answers the key already there), `get` answers None for a
    subject that has no key or was erased, and `destroy` leaves a tombstone, so a late
    writer cannot give an erased subject a new key."""

    def create(self, subject: str) -> bytes: ...

    def get(self, subject: str) -> bytes | None: ...

    def destroy(self, subject: str) -> None: ...


class ErasureLog(Protocol):
    """Who was erased, and when, kept apart from the tables a point-in-time restore brings
    back: a restore revives the data keys destroyed since its restore point, and this log
    is what destroys them again (`PersonalData.erased_since`). Nothing personal: ids only."""

    def record(self, subject: str, at: datetime) -> None:
        """Note `subject`'s erasure (again is harmless: the first time is kept)."""

    def since(self, moment: datetime) -> list[tuple[str, datetime]]:
        """The subjects erased at or after `moment`, oldest first."""


@dataclass
class KeyCache:
    """Unwrapped data keys kept for `ttl_seconds` in one process (one Lambda container), so
    a projector batch or a rebuild does not call KMS per event. An erasure made by another
    process is seen here within `ttl_seconds` at most."""

    ttl_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, tuple[float, bytes | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, subject: str) -> tuple[bool, bytes | None]:
        """(found, key): `found` is False when the cache has nothing fresh for `subject`."""
        with self._lock:
            entry = self._keys.get(subject)
            if entry is None or entry[0] < self.clock():
                return False, None
            return True, entry[1]

    def put(self, subject: str, key: bytes | None) -> None:
        with self._lock:
            self._keys[subject] = (self.clock() + self.ttl_seconds, key)

    def forget(self, subject: str) -> None:
        with self._lock:
            self._keys.pop(subject, None)


@dataclass
class PersonalData:
    """Seals and opens subjects' personal data under their data keys.

    A sealed text names its subject (`pd1:<subject>:<nonce and ciphertext>`), so it opens
    wherever it is read (a projector, a replay, an export) without being told whose it
    is; the subject is bound in as associated data, so renaming it breaks the seal."""

    keys: KeyStore
    log: ErasureLog | None = None
    """Where erasures are noted before their key goes (none: a test's store, a tool)."""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def seal(self, subject: str, text: str) -> str:
        """`text` sealed under `subject`'s key (created on first use)."""
        if ":" in subject:
            raise ValueError(f"a subject id has no ':' ({subject!r})")
        key = self.keys.create(subject)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, text.encode(), subject.encode())
        return f"{PREFIX}{subject}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str) -> str | None:
        """The clear text of a sealed `stored` value, or None once its subject is erased.

        Clear text stored before sealing existed is answered as it is."""
        if not is_sealed(stored):
            return stored
        subject, _, payload = stored[len(PREFIX) :].rpartition(":")
        key = self.keys.get(subject)
        if key is None:
            return None
        raw = base64.urlsafe_b64decode(payload)
        try:
            clear = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], subject.encode())
        except InvalidTag as wrong:
            raise ValueError(
                f"A sealed value does not open under subject {subject!r}'s key: it was sealed "
                "for another subject, or altered."
            ) from wrong
        return clear.decode()

    def erase(self, subject: str) -> None:
        """Destroy `subject`'s key: everything sealed for them is unreadable from now on.
        The erasure is logged first, so a key is never gone without its log entry."""
        if self.log is not None:
            self.log.record(subject, self.clock())
        self.keys.destroy(subject)

    def erased_since(self, moment: datetime) -> list[tuple[str, datetime]]:
        """The erasures logged at or after `moment` (after a restore: those to apply again)."""
        if self.log is None:
            raise ValueError("this PersonalData keeps no erasure log")
        return self.log.since(moment)

    def seal_fields(self, cls: type, data: Mapping[str, Any], subject: str) -> dict[str, Any]:
        """`data` (an encoded event or state of `cls`) with the fields `cls` declares
        personal sealed; `subject` is whose they are unless `cls` names a subject field."""
        fields = personal_fields(cls)
        if not fields:
            return dict(data)
        owner = _subject(cls, data, subject)
        return {
            name: self.seal(owner, value) if name in fields and isinstance(value, str) else value
            for name, value in data.items()
        }

    def open_fields(self, cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
        """`data` with its sealed fields opened, an erased subject's read as ERASED."""
        fields = personal_fields(cls)
        if not fields:
            return dict(data)
        opened = dict(data)
        for name in fields:
            value = opened.get(name)
            if isinstance(value, str) and is_sealed(value):
                clear = self.open(value)
                opened[name] = ERASED if clear is None else clear
        return opened


def personal_fields(cls: type) -> tuple[str, ...]:
    """The fields an event or state class declares personal (`personal = ("email", ...)`)."""
    fields: tuple[str, ...] = getattr(cls, "personal", ())
    return fields


def _subject(cls: type, data: Mapping[str, Any], default: str) -> str:
    field_name: str | None = getattr(cls, "subject", None)
    if field_name is None:
        return default
    owner = data.get(field_name)
    if not isinstance(owner, str) or not owner:
        raise ValueError(f"{cls.__name__}.{field_name} names no subject: {owner!r}")
    return owner


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def new_key() -> bytes:
    """A fresh AES-256 data key (for fakes; the KMS adapter has KMS generate its keys)."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)
