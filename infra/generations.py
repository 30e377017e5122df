"""The composition root's third job: the projections' generations, as queries read them
(the live one, behind a cached pointer) and as the projector keeps them (every active one)."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

from domain.projections import all_projections, projection_named
from event_sourcing.generations import Generations, Pointer, PointerMoved
from event_sourcing.projector import Projector, Projectors
from event_sourcing.views import SHARDS, ViewStore
from infra.adapters import Adapters

if TYPE_CHECKING:
    from event_sourcing.dynamodb.progress import ProgressLog
    from event_sourcing.dynamodb.views import LiveViews

READER_CACHE_SECONDS = 5.0
"""How long a query function reads one generation pointer before reading it again."""
QUERY_TIMEOUT_SECONDS = 10.0
"""The longest a query function runs (template.yaml Globals): a reader of the old pointer."""
RETIRE_DELAY_SECONDS = READER_CACHE_SECONDS + QUERY_TIMEOUT_SECONDS
"""How long a rebuild keeps the old generation after its switch (`Rebuild.retire_delay`)."""
PROJECTOR_LEASE_SECONDS = 5.0
"""How long the projector applies events to the generations it read before reading the
pointers again (one BatchGetItem per projector instance and lease, never one per commit)."""
PROJECTOR_TIMEOUT_SECONDS = 60.0
"""The longest one projector batch runs (template.yaml, ProjectorFunction's Timeout)."""
FENCE_SECONDS = PROJECTOR_LEASE_SECONDS + PROJECTOR_TIMEOUT_SECONDS
"""How long after a change of the active generations a projector may still write the ones
it read before (`Rebuild.fence`): a build starts, and a retired generation is dropped,
only that long after the change."""
UNBUILT = 0
"""The version recorded for a generation built from part of the history only."""


class Generational(Adapters):
    """The views of each projection's generations."""

    @cached_property
    def live(self) -> LiveViews:
        """The live generation of a projection's views, as queries read it: `live(name)`,
        its pointer read again once it is READER_CACHE_SECONDS old."""
        from event_sourcing.dynamodb.views import LiveViews

        return LiveViews(self.views, self.generations, projection_named, READER_CACHE_SECONDS)

    def _recorded(self, pointer: Pointer, *, joined: bool) -> Pointer:
        """A pointer never written (a fresh stack) is written once, by the first projector,
        so that it names the version its code builds generation 1 with (what `status` and
        `rebuild --changed` compare with a later version). A projection that `joined` a
        stack whose other projections were already built sees new events only: its
        generation 1 is recorded as of version UNBUILT, so that `status` flags it and
        `rebuild --changed` fills it from the event table."""
        if pointer.epoch:
            return pointer
        written = replace(pointer, epoch=1)
        if joined:
            written = replace(written, live=replace(written.live, version=UNBUILT))
        try:
            self.generations.save(written, read_at=0)
        except PointerMoved:
            return self.generations.read([projection_named(pointer.projection)])[pointer.projection]
        return written

    def progress(self, reader: str) -> ProgressLog:
        """Where a stream reader records what it did: a table it already writes."""
        from event_sourcing.dynamodb.progress import ProgressLog

        if reader in ("order-process", "outside-calls"):
            return ProgressLog(self.dynamodb, self.setting("IDEMPOTENCY_TABLE"), key="id")
        return ProgressLog(self.dynamodb, self.setting("VIEWS_TABLE"))

    @cached_property
    def generations(self) -> Generations:
        from event_sourcing.dynamodb.generations import DynamoDBGenerations

        return DynamoDBGenerations(self.dynamodb, self.setting("VIEWS_TABLE"))

    @cached_property
    def view_shards(self) -> int:
        """The parts of every spread collection (setting VIEW_SHARDS, default 16): a list
        every order writes is spread over that many partitions. It may grow, never shrink
        (event_sourcing/views.py)."""
        return int(self.setting("VIEW_SHARDS", str(SHARDS)))

    @cached_property
    def views(self) -> ViewStore:
        """The whole views table as queries read it (eventually consistent: cheaper)."""
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        return DynamoDBViewStore(
            self.dynamodb,
            self.setting("VIEWS_TABLE"),
            consistent_reads=False,
            shards=self.view_shards,
        )

    @cached_property
    def projector_views(self) -> ViewStore:
        """The views as the projector reads them to rewrite them (strongly consistent)."""
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        return DynamoDBViewStore(
            self.dynamodb,
            self.setting("VIEWS_TABLE"),
            consistent_reads=True,
            shards=self.view_shards,
        )

    @cached_property
    def projector(self) -> Projectors:
        """Every active generation of every projection (read again every lease)."""

        def load() -> list[Projector]:
            projections = all_projections()
            pointers = self.generations.read(projections)
            joined = any(pointer.epoch for pointer in pointers.values())
            for projection in projections:
                pointers[projection.name] = self._recorded(pointers[projection.name], joined=joined)
            return [
                Projector(
                    projection,
                    self.event_store,
                    projection.views_of(self.projector_views, generation.prefix),
                    registry=self.repository.events,
                )
                for projection in projections
                for generation in pointers[projection.name].active()
            ]

        # No commit checks the pointers (one item per projection that every commit would
        # share: 1,000 write units/s for a projection's whole traffic). The lease bounds how
        # long a projector writes the generations it read; rebuilds wait it out (FENCE).
        return Projectors(self.event_store, load, lease=lambda: PROJECTOR_LEASE_SECONDS)
