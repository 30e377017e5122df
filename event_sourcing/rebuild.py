"""Blue/green rebuilds of one projection (the operator's `rebuild`).

1. **Begin**: the pointer names a new generation `building`. Projectors hold the
   generations they read for at most `fence` seconds (their lease, plus the longest a
   batch of theirs runs): after that every commit also applies to the new generation
   (event_sourcing/generations.py). The build waits it out, so that an event a projector
   applied to the old generations only is stored before the scan reads its stream.
2. **Build**: a parallel scan of the event table's streams, each caught up into the new
   generation; after each page the scan's position is saved in the pointer, so a crashed
   rebuild resumes where it stopped (`rebuild` again). Events appended meanwhile reach it
   through the projector, or through the scan if it meets their stream later: either way
   once (positions).
3. **Switch**: one write of the pointer makes it `live`; the old one becomes `retiring`
   and is still kept current, because readers may read a pointer up to `retire_delay`
   seconds old (their pointer cache and their longest request).
4. **Drop**: after that delay the old generation is retired (`dropping`): projectors stop
   writing it within `fence` seconds, and then its items are deleted. A write it receives
   meanwhile lands under its own prefix, which no reader reads any more: readers resolve
   the live generation from the pointer, and the retire came `retire_delay` after the
   switch. A crashed rebuild finishes the drop when run again.

Queries answer from the live generation throughout: no moment of missing or wrong views,
and no projector commit checks the pointer (it would be one item all commits share)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from event_sourcing.events import Clock, EventRegistry
from event_sourcing.events import registry as default_registry
from event_sourcing.generations import DONE, Generations, Pointer
from event_sourcing.projector import Generation, Projection, Projector
from event_sourcing.repository import EventStore
from event_sourcing.views import ViewStore

SETTLE_POLL_SECONDS = 0.5
"""How often the projector's passing of the switch is looked at."""
SETTLE_TIMEOUT_SECONDS = 60.0
"""How long a retirement waits for the projector to pass the switch; then it goes ahead
(a late write of the old generation lands under its prefix, which the drop deletes)."""
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
    fences_released: int = 0
    """Fences that ended before their time because `released` said the projectors let go."""


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
    """How long readers may read an old pointer: the old generation is retired after it."""
    fence: float
    """How long a projector may still apply events to the generations it read before a
    change of the pointer (its lease and its longest batch): the build starts, and a
    generation no longer active is dropped, only that long after the change."""
    segments: int = SEGMENTS
    wait: Callable[[float], None] = time.sleep
    progress: Progress = field(default_factory=Progress)
    registry: EventRegistry = field(default_factory=lambda: default_registry)
    """The events' registry: a sealing one opens personal fields (an erased one's read as
    erased, so a rebuild brings none of it back)."""
    passed_switch: Callable[[datetime], bool] = lambda switched_at: True
    """Whether the projector has applied every event written up to `switched_at`."""
    released: Callable[[datetime], bool] | None = None
    """Whether no projector can still write what it read before `moment` (no batch in
    flight that may hold older pointers), where that can be seen: the fence then ends as
    soon as it holds, and after `fence` seconds at the latest."""

    def run(self, *, drop: bool = True) -> Report:
        started = time.monotonic()
        pointer = self._finish_dropping(self._finish_retiring(self._finish_dropping(self._read())))
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
        assert pointer.started_at is not None
        if self._fence(pointer.started_at, "for projectors"):
            report.fences_released += 1
        self._build(pointer, building, report)
        self.progress.phase("switching readers")
        report.replaced = self._switch(building)
        if drop:
            self.finish(report)
        report.seconds = time.monotonic() - started
        return report

    def finish(self, report: Report | None = None) -> None:
        """Retire and drop the generation the switch replaced, once no reader or projector
        needs it (`run(drop=False)` leaves this to the caller, so that the waits of several
        rebuilds run at once)."""
        self._finish_dropping(self._finish_retiring(self._read()), report)

    def _read(self) -> Pointer:
        return self.generations.read([self.projection])[self.projection.name]

    def _build(self, pointer: Pointer, building: Generation, report: Report) -> None:
        builder = Projector(
            self.projection,
            self.events,
            self.projection.views_of(self.views, building.prefix),
            registry=self.registry,
        )
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

    def _wait_until(self, at: datetime, why: str) -> None:
        left = (at - self.clock.now()).total_seconds()
        if left > 0:
            self.progress.phase(f"waiting {left:.0f} s {why}")
            self.wait(left)

    def _finish_retiring(self, pointer: Pointer) -> Pointer:
        """Retire the old generation of a switch (this one's, or an earlier rebuild's that
        stopped there), once no reader can still be reading it."""
        if pointer.retiring is None:
            return pointer
        assert pointer.retire_after is not None
        self._wait_until(pointer.retire_after, "for readers of the old generation")
        self._settle(pointer.retire_after - timedelta(seconds=self.retire_delay))
        retired = pointer.retired(self._fenced())
        self.generations.save(retired, read_at=pointer.epoch)
        return retired

    def _settle(self, switched_at: datetime) -> None:
        """Wait until the projector has applied every event written up to the switch (a
        batch begun before it may still write to the old generation), at most
        SETTLE_TIMEOUT_SECONDS."""
        if self.passed_switch(switched_at):
            return
        self.progress.phase("waiting for the projector to pass the switch")
        until = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while time.monotonic() <= until:
            self.wait(SETTLE_POLL_SECONDS)
            if self.passed_switch(switched_at):
                return
        self.progress.phase("the projector has not passed the switch (see `status`)")

    def _finish_dropping(self, pointer: Pointer, report: Report | None = None) -> Pointer:
        """Drop the generation retired or abandoned (by this rebuild, or an earlier one
        that stopped there) once no projector can still be writing it."""
        if pointer.dropping is None:
            return pointer
        assert pointer.drop_after is not None
        changed = pointer.drop_after - timedelta(seconds=self.fence)
        if self._fence(changed, "for projectors of the old generation") and report:
            report.fences_released += 1
        self.progress.phase(f"dropping generation {pointer.dropping.number}")
        dropped = self.generations.drop(pointer.dropping)
        if report is not None:
            report.dropped = dropped
        done = pointer.dropped()
        self.generations.save(done, read_at=pointer.epoch)
        return done

    def _fence(self, changed: datetime, why: str) -> bool:
        """Wait until no projector can still write what it read before `changed`: `fence`
        seconds after it, or as soon as `released` says so (then answer True)."""
        until = changed + timedelta(seconds=self.fence)
        if self.released is None:
            self._wait_until(until, why)
            return False
        self.progress.phase(f"waiting {why} (until they let go, {self.fence:.0f} s at most)")
        while self.clock.now() < until:
            if self.released(changed):
                return True
            self.wait(SETTLE_POLL_SECONDS)
        return False

    def _fenced(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.fence)

    def _abandon(self, pointer: Pointer) -> Pointer:
        assert pointer.building is not None
        self.progress.phase(
            f"abandoning generation {pointer.building.number}, built for version "
            f"{pointer.building.version}"
        )
        abandoned = pointer.abandoned(self._fenced())
        self.generations.save(abandoned, read_at=pointer.epoch)
        return self._finish_dropping(abandoned)
