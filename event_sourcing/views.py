"""The read side's port: documents, each at a key (collection, id), written by projections
only.

A document lives in one collection and is read by its key, or with the rest of its
collection in id order (`ViewReader.query`). A document may also be listed in one listing
(`Put(..., listed=Listing(name, sort))`): a second way to find it, read a page at a time in
`sort` order (`ViewReader.listing`). A listing follows its documents: putting a document
lists it (or moves it), deleting it unlists it.

Each stream's position (the last version applied) is stored beside the views and moves
in the same atomic commit as the changes it caused: that is what makes projections
idempotent (a duplicate is at or below the position) and order-safe (a change is only
written on top of the position it was computed from).

A store may bound how many changes one commit writes atomically (the DynamoDB adapter: 99,
a transaction's 100 items less the position). Changes whose number an event does not bound
(one search entry per trigram of a description, one entry per product an order ever held)
are marked `ahead`: the store may write them before the commit, outside it.

A collection that independent streams all write (every order's entry in the admin's list
of orders) is declared spread (`ViewStore.spreading`): the store may keep its documents in
`shards` parts, each document's part a function of its id, and merges them on read. Reads
answer exactly as for a collection kept whole: the same documents, the same order, the same
cursors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Doc = dict[str, Any]

SHARDS = 16
"""The parts a spread collection is kept in, unless the composition root says otherwise."""


@dataclass(frozen=True)
class ViewKey:
    """Where a document lives: its collection, and its id within it (ids order a
    collection's documents)."""

    collection: str
    id: str = "#"


@dataclass(frozen=True)
class Listing:
    """A listing a document is also found in: `name`, at `sort` (listings are a namespace
    of their own, apart from collections)."""

    name: str
    sort: str


@dataclass(frozen=True)
class Put:
    """Write the whole document at `key`, listed in `listed` if given (else in no listing).

    `ahead` marks a change the projection lets the store write before the commit, outside
    its atomicity (see the module's note on a commit's bound): it must be a pure function of
    the event and the state before it, so that a redo after a crash writes the same, and
    its readers must allow for a change that landed while its commit did not (yet)."""

    key: ViewKey
    doc: Mapping[str, Any]
    listed: Listing | None = None
    ahead: bool = False


@dataclass(frozen=True)
class Delete:
    """Delete the document at `key` (and its listing entry); `ahead` as for `Put`."""

    key: ViewKey
    ahead: bool = False


@dataclass(frozen=True)
class Increment:
    """Add to numeric fields of the document at `key` (created if missing).

    For documents that several streams change (a category's count of active products):
    additions commute, so no stream's change is lost to another's.

    `ahead` as for `Put`, with one difference: an addition is not idempotent, so a redo
    of an event whose ahead increments landed while its commit did not adds them again.
    Only for counts that may be off by such redos (estimates: the search's trigram counts)."""

    key: ViewKey
    counts: Mapping[str, int]
    ahead: bool = False


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


class ViewReader(ABC):
    @abstractmethod
    def get(self, key: ViewKey) -> Doc | None: ...

    @abstractmethod
    def get_many(self, keys: Sequence[ViewKey]) -> dict[ViewKey, Doc]:
        """The documents that exist among `keys`, read together."""

    @abstractmethod
    def query(
        self,
        collection: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
        after: str | None = None,
    ) -> Page:
        """A page of the documents of `collection`, in id order (never the whole store).

        `cursor` continues a previous page; a cursor that was not issued for this query
        raises `InvalidCursor`. `after` starts after that id instead."""

    @abstractmethod
    def listing(
        self,
        name: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        descending: bool = False,
    ) -> Page:
        """A page of the documents listed in `name`, in `sort` order (documents of equal
        `sort` in no promised order); `cursor` as for `query`."""


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
        `GenerationsChanged`); otherwise change nothing, except `ahead` changes, which may
        land before the commit fails (never from a position already past `from_version`)."""

    def spreading(self, collections: Collection[str], shards: int | None = None) -> ViewStore:
        """The same views, with `collections` spread in `shards` parts (ids decide the part;
        None: as many as the store was made with, SHARDS unless told).

        Reads of a spread collection answer as before: a page is merged from every part.
        `shards` may grow (a part is read whether or not it holds anything), never shrink
        without a rebuild into a new generation. A store that keeps every collection where
        one writer's traffic never meets another's (the in-memory fake) is itself."""
        return self

    @abstractmethod
    def scoped(self, prefix: str) -> ViewStore:
        """The same views under `prefix` (one generation of one projection): its
        collections, listings and positions are prefixed, invisibly to its users. Its
        cursors name unprefixed keys, so a page read before a switch of generation continues
        after it."""
