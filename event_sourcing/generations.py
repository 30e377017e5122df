"""Generations of projections: each projection's views are built under a generation's
prefix, and one pointer per projection says which generation readers read.

A rebuild builds a new generation (`building`) beside the live one while the projector
keeps both current; then one write of the pointer switches readers to it, and the old one
(`retiring`) is kept current until no reader can still be reading it, then retired
(`dropping`) and dropped once no projector can still be writing it. Every change of a
pointer moves its `epoch` (operators' writes of it are made over the epoch they read).

No projector commit reads or checks the pointer: projectors hold the generations they read
for a bounded time (a lease: `Projectors`), and a rebuild waits that time out after each
change of the active generations before it relies on it (event_sourcing/rebuild.py), so
the pointer is one item read now and then, never one item every commit shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from event_sourcing.projector import Generation, Projection
from event_sourcing.views import Guard, ViewKey


def pointer_key(projection: str) -> ViewKey:
    return ViewKey(f"projection#{projection}", "#")


@dataclass(frozen=True)
class Pointer:
    """Where one projection's generations stand. Epoch 0: never written; the live
    generation is then number 1 of the code's version (a fresh stack)."""

    projection: str
    live: Generation
    building: Generation | None = None
    retiring: Generation | None = None
    epoch: int = 0
    checkpoint: Mapping[str, str] = field(default_factory=dict)
    """The build's progress per scan segment: a resume token, or DONE."""
    started_at: datetime | None = None
    retire_after: datetime | None = None
    dropping: Generation | None = None
    """A generation no longer active whose items are deleted once `drop_after` is past (no
    projector can still be writing it then). Counted in `next_number`, so that a crash
    before its drop never lets a new build start over its leftover items."""
    drop_after: datetime | None = None

    @classmethod
    def initial(cls, projection: Projection) -> Pointer:
        return cls(projection.name, Generation(projection.name, 1, projection.version))

    @property
    def key(self) -> ViewKey:
        return pointer_key(self.projection)

    @property
    def guard(self) -> Guard:
        return Guard(self.key, self.epoch)

    def active(self) -> list[Generation]:
        """The generations the projector keeps current."""
        return [g for g in (self.live, self.building, self.retiring) if g is not None]

    def next_number(self) -> int:
        return max(g.number for g in [*self.active(), *filter(None, [self.dropping])]) + 1

    def begun(self, version: int, at: datetime) -> Pointer:
        building = Generation(self.projection, self.next_number(), version)
        return replace(self, building=building, epoch=self.epoch + 1, checkpoint={}, started_at=at)

    def switched(self, retire_after: datetime) -> Pointer:
        if self.building is None:
            raise ValueError(f"{self.projection} has no generation being built")
        return replace(
            self,
            live=self.building,
            building=None,
            retiring=self.live,
            epoch=self.epoch + 1,
            checkpoint={},
            started_at=None,
            retire_after=retire_after,
        )

    def retired(self, drop_after: datetime | None = None) -> Pointer:
        return replace(
            self,
            retiring=None,
            retire_after=None,
            dropping=self.retiring if drop_after is not None else self.dropping,
            drop_after=drop_after if drop_after is not None else self.drop_after,
            epoch=self.epoch + 1,
        )

    def abandoned(self, drop_after: datetime | None = None) -> Pointer:
        return replace(
            self,
            building=None,
            checkpoint={},
            started_at=None,
            dropping=self.building if drop_after is not None else self.dropping,
            drop_after=drop_after if drop_after is not None else self.drop_after,
            epoch=self.epoch + 1,
        )

    def dropped(self) -> Pointer:
        return replace(self, dropping=None, drop_after=None, epoch=self.epoch + 1)


DONE = "done"
"""A checkpoint's mark for a scan segment that was read to its end."""


class PointerMoved(Exception):
    """Another operator changed the pointer meanwhile: read it again."""


class Generations(ABC):
    """The pointers, and the generations' views. Invariants every implementation keeps:
    `save` writes only over the epoch it was read at (else `PointerMoved`), and `drop`
    deletes every view item of a generation and nothing else."""

    @abstractmethod
    def read(self, projections: Sequence[Projection]) -> dict[str, Pointer]:
        """Each projection's pointer, strongly consistent (`Pointer.initial` if none)."""

    @abstractmethod
    def save(self, pointer: Pointer, *, read_at: int) -> None:
        """Write `pointer` if the stored one is still at epoch `read_at`."""

    @abstractmethod
    def drop(self, generation: Generation) -> int:
        """Delete every view item of `generation`; the number deleted."""
