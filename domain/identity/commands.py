"""The identity commands, as the edge hands them to the core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Register:
    email: str
    password: str


@dataclass(frozen=True)
class IssueToken:
    email: str
    password: str


@dataclass(frozen=True)
class ChangePassword:
    old_password: str
    new_password: str


@dataclass(frozen=True)
class Deactivate:
    user_id: str
