"""Dataclass <-> JSON-compatible dict, driven by type annotations.

Money stays `Decimal` end to end: it is written as a string and read back exactly."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

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
