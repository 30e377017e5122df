"""bcrypt password hashing, with the password pre-hashed by SHA-256 so that every character
counts (bcrypt alone reads only the first 72 bytes, and refuses longer input)."""

from __future__ import annotations

import base64
import hashlib
from functools import cached_property

import bcrypt

from domain.identity.ports import PasswordHasher

PREFIX = "bcrypt_sha256$"


class BcryptHasher(PasswordHasher):
    def __init__(self, rounds: int = 12) -> None:
        if not 4 <= rounds <= 31:
            raise ValueError(f"bcrypt rounds must be within 4..31, not {rounds}")
        self.rounds = rounds

    def hash(self, password: str) -> str:
        hashed = bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.rounds))
        return PREFIX + hashed.decode()

    def verify(self, password: str, hashed: str) -> bool:
        if not hashed.startswith(PREFIX):
            return False
        try:
            return bcrypt.checkpw(_prehash(password), hashed.removeprefix(PREFIX).encode())
        except ValueError:
            return False

    def verify_nothing(self, password: str) -> None:
        self.verify(password, self._decoy)

    @cached_property
    def _decoy(self) -> str:
        return self.hash("decoy password, never anyone's")


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode()).digest())
