"""The read side's port: documents keyed by (pk, sk), written by projections only.

Each stream's position (the last version applied) is stored beside the views and moves
in the same atomic write as the changes it caused: that is what makes projections
idempotent (a duplicate is at or below the position) and order-safe (a change is only
written on top of the position it was computed from)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class ViewKey:
    pk: str
    sk: str = "#"


@dataclass(frozen=True)
class Put:
    """Write the whole document at `key` (index attributes such as gsi1pk included).

    `bulk` marks a write that may land outside the atomic commit, before it (search index
    entries, which can outnumber a transaction's 100 items): it must be a pure function of
    the event and the state before it, so that a redo after a crash writes the same."""

    key: ViewKey
    doc: Mapping[str, Any]
    bulk: bool = False


@dataclass(frozen=True)
class Delete:
    key: ViewKey
    bulk: bool = False


@dataclass(frozen=True)
class Increment:
    """Add to numeric fields of the document at `key` (created if missing).

    For documents that several streams change (a category's count of active products):
    additions commute, so no stream's change is lost to another's."""

    key: ViewKey
    counts: Mapping[str, int]


Change = Put | Delete | Increment


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    cursor: str | None = None


@dataclass(frozen=True)
class PositionMoved(Exception):
    """Someone else applied events of this stream meanwhile: recompute from the new position."""

    stream_id: str
    expected: int
    actual: int = field(default=-1)

    def __str__(self) -> str:
        return f"position of {self.stream_id!r} is no longer {self.expected}"


class InvalidCursor(ValueError):
    """A pagination cursor that this store did not issue for this query."""


@dataclass(frozen=True)
class Guard:
    """Commit only while the document at `key` (outside any scope) names `epoch`, or, for
    epoch 0, while there is none: the projections' generations the projector last read."""

    key: ViewKey
    epoch: int


class GenerationsChanged(Exception):
    """A commit's guard failed: generations began, switched or retired meanwhile. Nothing
    was committed; read the generations again and apply the event to each."""


INDEX_PARTITIONS = ("gsi1pk",)
"""Document attributes that are an index's partition key: a scoped store scopes them."""


class ViewReader(ABC):
    @abstractmethod
    def get(self, key: ViewKey) -> Doc | None: ...

    @abstractmethod
    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        """The documents that exist among `keys` (batched: one request per 100 keys)."""

    @abstractmethod
    def query(
        self,
        pk: str,
        *,
        index: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        """Documents whose partition (or `index` partition) is `pk`, in sort-key order.

        Never a scan. `cursor` continues a previous page; a cursor that was not issued for
        this query raises `InvalidCursor`. `after` (table queries only) starts after that
        sort key instead."""


class ViewStore(ViewReader):
    @abstractmethod
    def position(self, stream_id: str) -> int:
        """The last version of `stream_id` applied to the views (0 if none)."""

    @abstractmethod
    def commit(
        self,
        stream_id: str,
        *,
        from_version: int,
        to_version: int,
        changes: Sequence[Change],
        guard: Guard | None = None,
    ) -> None:
        """Apply `changes` and move the stream's position, atomically, if the position is
        still `from_version` (else `PositionMoved`) and `guard` holds (else
        `GenerationsChanged`); otherwise change nothing."""

    @abstractmethod
    def scoped(self, prefix: str) -> ViewStore:
        """The same views under `prefix` (one generation of one projection): its keys,
        index partitions (`INDEX_PARTITIONS`) and positions are prefixed, invisibly to its
        users. Its cursors name unprefixed keys, so a page read before a switch of
        generation continues after it."""
