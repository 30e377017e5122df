"""An in-memory outside-calls queue: what the stream reader sent, in order."""

from __future__ import annotations

from event_sourcing.process import DueWork, WorkQueue


class InMemoryWorkQueue(WorkQueue):
    def __init__(self) -> None:
        self.sent: list[DueWork] = []
        self.waiting: list[DueWork] = []

    def send(self, work: DueWork) -> None:
        self.sent.append(work)
        self.waiting.append(work)

    def take(self) -> list[DueWork]:
        """Everything waiting, as the queue's consumer receives it."""
        waiting, self.waiting = self.waiting, []
        return waiting
