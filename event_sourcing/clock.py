"""Time and identifiers: the two things every decision takes from the outside world."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class IdGenerator(ABC):
    @abstractmethod
    def new_id(self) -> str:
        """A new opaque, unique, URL-safe identifier."""
