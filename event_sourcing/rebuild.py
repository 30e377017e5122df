"""Blue/green rebuilds of one projection (the operator's `rebuild`).

1. **Begin**: the pointer names a new generation `building` (its epoch moves, so every
   projector commit from then on also applies to it: event_sourcing/generations.py).
2. **Build**: a parallel scan of the event table's streams, each caught up into the new
   generation; after each page the scan's position is saved in the pointer, so a crashed
   rebuild resumes where it stopped (`rebuild` again). Events appended meanwhile reach it
   through the projector, or through the scan if it meets their stream later: either way
   once (positions).
3. **Switch**: one write of the pointer makes it `live`; the old one becomes `retiring`
   and is still kept current, because readers may read a pointer up to `retire_delay`
   seconds old (their pointer cache and their longest request).
4. **Drop**: after that delay and a query function's timeout, the old generation is
   retired and its items deleted.

Queries answer from the live generation throughout: no moment of missing or wrong views."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta

from event_sourcing.clock import Clock
from event_sourcing.generations import DONE, Generations, Pointer
from event_sourcing.projector import Generation, Projection, Projector
from event_sourcing.store import EventStore
from event_sourcing.views import ViewStore

SEGMENTS = 4


@dataclass
class Report:
    """What a rebuild did."""

    projection: str
    generation: int
    version: int
    resumed: bool = False
    streams: int = 0
    events: int = 0
    dropped: int = 0
    replaced: int | None = None
    seconds: float = 0.0


@dataclass
class Progress:
    """Told of each step; `advanced(streams, events)` after every stream."""

    began: Callable[[Report], None] = lambda report: None
    advanced: Callable[[int, int], None] = lambda streams, events: None
    phase: Callable[[str], None] = lambda text: None


@dataclass
class Rebuild:
    projection: Projection
    generations: Generations
    events: EventStore
    views: ViewStore
    clock: Clock
    retire_delay: float
    """How long readers may read an old pointer: the old generation is dropped after it."""
    segments: int = SEGMENTS
    wait: Callable[[float], None] = time.sleep
    progress: Progress = field(default_factory=Progress)

    def run(self) -> Report:
        started = time.monotonic()
        pointer = self._finish_retiring(self._read())
        resumed = pointer.building is not None and pointer.building.version == (
            self.projection.version
        )
        if pointer.building is not None and not resumed:
            pointer = self._abandon(pointer)
        if not resumed:
            begun = pointer.begun(self.projection.version, self.clock.now())
            self.generations.save(begun, read_at=pointer.epoch)
            pointer = begun
        building = pointer.building
        assert building is not None
        report = Report(self.projection.name, building.number, building.version, resumed)
        self.progress.began(report)
        self._build(pointer, building, report)
        self.progress.phase("switching readers")
        report.replaced = self._switch(building)
        self._finish_retiring(self._read(), report)
        report.seconds = time.monotonic() - started
        return report

    def _read(self) -> Pointer:
        return self.generations.read([self.projection])[self.projection.name]

    def _build(self, pointer: Pointer, building: Generation, report: Report) -> None:
        builder = Projector(self.projection, self.events, self.views.scoped(building.prefix))
        checkpoint = dict(pointer.checkpoint)
        lock = threading.Lock()

        def save(segment: int, token: str) -> None:
            with lock:
                checkpoint[str(segment)] = token
                current = self._read()
                if current.building != building:
                    raise RuntimeError(
                        f"the {self.projection.name} rebuild was replaced meanwhile "
                        "(another rebuild?): run it again"
                    )
                progressed = replace(current, checkpoint=dict(checkpoint))
                self.generations.save(progressed, read_at=current.epoch)

        def scan(segment: int) -> None:
            after = checkpoint.get(str(segment))
            if after == DONE:
                return
            for page, token in self.events.stream_pages(
                segment=segment, segments=self.segments, after=after
            ):
                for stream_id in page:
                    outcome = builder.catch_up(stream_id)
                    with lock:
                        report.streams += 1
                        report.events += len(outcome.applied)
                    self.progress.advanced(1, len(outcome.applied))
                save(segment, token or DONE)

        self.progress.phase(f"building generation {building.number}")
        with ThreadPoolExecutor(max_workers=self.segments) as pool:
            for done in [pool.submit(scan, s) for s in range(self.segments)]:
                done.result()

    def _switch(self, building: Generation) -> int:
        pointer = self._read()
        if pointer.building != building:
            raise RuntimeError(
                f"the {self.projection.name} rebuild was replaced meanwhile: run it again"
            )
        retire_after = self.clock.now() + timedelta(seconds=self.retire_delay)
        switched = pointer.switched(retire_after)
        self.generations.save(switched, read_at=pointer.epoch)
        return pointer.live.number

    def _finish_retiring(self, pointer: Pointer, report: Report | None = None) -> Pointer:
        """Retire and drop the old generation of a switch (this one's, or an earlier
        rebuild's that stopped there), once no reader can still be reading it."""
        if pointer.retiring is None:
            return pointer
        assert pointer.retire_after is not None
        left = (pointer.retire_after - self.clock.now()).total_seconds()
        if left > 0:
            self.progress.phase(f"waiting {left:.0f} s for readers of the old generation")
            self.wait(left)
        retired = pointer.retired()
        self.generations.save(retired, read_at=pointer.epoch)
        self.progress.phase(f"dropping generation {pointer.retiring.number}")
        dropped = self.generations.drop(pointer.retiring)
        if report is not None:
            report.dropped = dropped
        return retired

    def _abandon(self, pointer: Pointer) -> Pointer:
        assert pointer.building is not None
        self.progress.phase(
            f"dropping generation {pointer.building.number}, built for version "
            f"{pointer.building.version}"
        )
        abandoned = pointer.abandoned()
        self.generations.save(abandoned, read_at=pointer.epoch)
        self.generations.drop(pointer.building)
        return abandoned
