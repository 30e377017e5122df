"""Domain events, their stored form, the registry that maps one to the other, the codec
that writes them as JSON (money exact, times ISO 8601 UTC), and the clock and ids that
stamp them.

A domain event is a small frozen dataclass with business fields only. What the store
adds (stream, version, time, who and why) travels beside it in a `RecordedEvent`."""

from __future__ import annotations

import dataclasses
import enum
import os
import time
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from event_sourcing.personal import PersonalData

T = TypeVar("T")

Json = None | bool | int | str | list["Json"] | dict[str, "Json"]


def encode(value: Any) -> Any:
    """A JSON-compatible copy of `value` (dataclasses, Decimal, datetime, enums, tuples)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | frozenset | set):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}: {value!r}")


def decode(cls: type[T], data: Any) -> T:
    """The instance of dataclass `cls` that `encode` turned into `data`."""
    return typing.cast(T, _decode(cls, data))


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the one time format of the API."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused: the core works in UTC")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, data: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        last_error: Exception | None = None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data)
            except (TypeError, ValueError, KeyError) as error:
                last_error = error
        raise TypeError(f"{data!r} fits none of {tp}") from last_error
    if origin is typing.Literal:
        if data not in typing.get_args(tp):
            raise ValueError(f"{data!r} is not one of {typing.get_args(tp)}")
        return data
    if origin in (tuple, list, frozenset):
        (item_type, *_rest) = typing.get_args(tp) or (Any,)
        items = [_decode(item_type, item) for item in data]
        return origin(items) if origin is not list else items
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        return {_decode(key_type, k): _decode(value_type, v) for k, v in data.items()}
    if tp is Any:
        return data
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = _hints(tp)
            kwargs = {
                f.name: _decode(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.init and f.name in data
            }
            return tp(**kwargs)
        if issubclass(tp, enum.Enum):
            return tp(data)
        if tp is Decimal:
            return Decimal(data) if isinstance(data, str | int) else _fail(tp, data)
        if tp is datetime:
            return parse_iso(data) if isinstance(data, str) else _fail(tp, data)
        if tp is bool:
            return data if isinstance(data, bool) else _fail(tp, data)
        if tp is int:
            return data if isinstance(data, int) and not isinstance(data, bool) else _fail(tp, data)
        if tp is str:
            return data if isinstance(data, str) else _fail(tp, data)
    raise TypeError(f"cannot decode into {tp!r}")


def _fail(tp: Any, data: Any) -> Any:
    raise TypeError(f"expected {getattr(tp, '__name__', tp)}, got {type(data).__name__}")


class DomainEvent:
    """Base of every domain event. Subclasses are frozen dataclasses registered by name."""

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    personal: ClassVar[tuple[str, ...]] = ()
    """Fields holding personal data: stored sealed under their subject's data key (see
    `event_sourcing.personal`), read back as `personal.ERASED` once the subject is erased."""
    subject: ClassVar[str | None] = None
    """The field naming whose personal data it is (a user's id); None: the aggregate's."""
    background: ClassVar[bool] = False
    """True for a process's own bookkeeping (an email sent, a link asked for by anyone): it
    moves the stream's version but not the one the aggregate's users see and send back in
    If-Match (`Aggregate.visible_version`), so it never fails their next command."""


E = TypeVar("E", bound=type[DomainEvent])


@dataclass(frozen=True)
class Metadata:
    """Why and by whom an event was recorded."""

    event_id: str
    correlation_id: str
    causation_id: str
    user_id: str | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the store holds it: the envelope plus the encoded data."""

    stream_id: str
    version: int
    type: str
    schema_version: int
    occurred_at: datetime
    data: Mapping[str, Any]
    metadata: Metadata


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's state as of `version`, written in the event item of that version."""

    version: int
    schema: int
    state: Mapping[str, Any]


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(
            f"No event type {type_name!r} is registered: import the module that defines it, "
            "or register an upcaster that renames it."
        )
        self.type_name = type_name


@dataclass
class EventRegistry:
    """Names event classes for the store and upgrades old schema versions on read."""

    _types: dict[str, type[DomainEvent]] = field(default_factory=dict)
    _upcasters: dict[tuple[str, int], Upcaster] = field(default_factory=dict)
    personal: PersonalData | None = None
    """When set, personal fields are sealed on the way in and opened on the way out."""

    def sealing(self, personal: PersonalData) -> EventRegistry:
        """This registry (the same types and upcasters) sealing personal data with
        `personal`: what the composition root hands the repository and the projectors."""
        return EventRegistry(self._types, self._upcasters, personal)

    def seal(self, cls: type, data: Mapping[str, Any], subject: str) -> dict[str, Any]:
        """Encoded `data` of `cls` (an event or a state) with its personal fields sealed."""
        if self.personal is None or not getattr(cls, "personal", ()):
            return dict(data)
        return self.personal.seal_fields(cls, data, subject)

    def open(self, cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
        """Stored `data` of `cls` with its sealed fields opened (erased ones: ERASED)."""
        if self.personal is None or not getattr(cls, "personal", ()):
            return dict(data)
        return self.personal.open_fields(cls, data)

    def event(self, cls: E) -> E:
        """Class decorator: register `cls` under its `event_type` (default: class name)."""
        name = cls.__dict__.get("event_type") or cls.__name__
        if name in self._types and self._types[name] is not cls:
            raise ValueError(f"event type {name!r} is registered twice")
        cls.event_type = name
        self._types[name] = cls
        return cls

    def type_named(self, name: str) -> type[DomainEvent]:
        """The event class stored events of type `name` decode into."""
        cls = self._types.get(name)
        if cls is None:
            raise UnknownEventType(name)
        return cls

    def names(self) -> list[str]:
        """The type names of every registered event, sorted."""
        return sorted(self._types)

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: a function that turns data of `from_version` into `from_version + 1`."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(type_name, from_version)] = fn
            return fn

        return register

    def encode(self, event: DomainEvent) -> tuple[str, int, dict[str, Any]]:
        cls = type(event)
        if self._types.get(cls.event_type) is not cls:
            raise UnknownEventType(cls.__name__)
        return cls.event_type, cls.schema_version, encode(event)

    def decode(self, recorded: RecordedEvent) -> DomainEvent:
        cls = self._types.get(recorded.type)
        if cls is None:
            raise UnknownEventType(recorded.type)
        data = dict(recorded.data)
        version = recorded.schema_version
        while version < cls.schema_version:
            upcast = self._upcasters.get((recorded.type, version))
            if upcast is None:
                raise ValueError(
                    f"{recorded.type} v{version} cannot be read as v{cls.schema_version}: "
                    f"register an upcaster for ({recorded.type!r}, {version})."
                )
            data = upcast(data)
            version += 1
        if version > cls.schema_version:
            raise ValueError(
                f"{recorded.type} v{version} is newer than this code (v{cls.schema_version}): "
                "deploy the newer code before reading it."
            )
        return decode(cls, self.open(cls, data))


registry = EventRegistry()
"""The registry of the shop's events; each bounded context registers into it."""


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class IdGenerator(ABC):
    @abstractmethod
    def new_id(self) -> str:
        """A new opaque, unique, URL-safe identifier."""


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class UlidIds(IdGenerator):
    """26-character ULIDs (lower case): 48 bits of milliseconds, then 80 random bits, so ids
    sort by creation time."""

    def new_id(self) -> str:
        value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))
