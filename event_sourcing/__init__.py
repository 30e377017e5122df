"""An event-sourcing kit: aggregates decided on fresh state and appended with optimistic
concurrency (claims, holds and a small published state in the same write), projections
applied once each in stream order into generations of views, and the ports a store must
implement.

`event_sourcing.dynamodb` is its DynamoDB adapter; `event_sourcing.testing` the contract
suites any adapter passes. Nothing here knows what is being sold."""

from event_sourcing.errors import (
    ConcurrencyError,
    HeldTooLate,
    KeyHeld,
    KeyRetired,
    StreamNotFound,
    UniquenessViolation,
    VersionMismatch,
)
from event_sourcing.events import (
    Clock,
    DomainEvent,
    EventRegistry,
    IdGenerator,
    Metadata,
    RecordedEvent,
    Snapshot,
)
from event_sourcing.generations import Generations, Pointer
from event_sourcing.guards import Claim, Hold, HoldsKeys, Retire
from event_sourcing.projector import GapNotFilled, Generation, Projection, Projector, Projectors
from event_sourcing.repository import (
    Aggregate,
    Append,
    Backoff,
    CommandContext,
    Decision,
    EventSourcedRepository,
    EventStore,
    Outcome,
    Publishes,
    StreamTail,
    applies,
)
from event_sourcing.views import Delete, Increment, Listing, Put, ViewKey, ViewReader, ViewStore

__all__ = [
    "Aggregate",
    "Append",
    "Backoff",
    "Claim",
    "Clock",
    "CommandContext",
    "ConcurrencyError",
    "Decision",
    "Delete",
    "DomainEvent",
    "EventRegistry",
    "EventSourcedRepository",
    "EventStore",
    "GapNotFilled",
    "Generation",
    "Generations",
    "HeldTooLate",
    "Hold",
    "HoldsKeys",
    "IdGenerator",
    "Increment",
    "KeyHeld",
    "KeyRetired",
    "Listing",
    "Metadata",
    "Outcome",
    "Pointer",
    "Projection",
    "Projector",
    "Projectors",
    "Publishes",
    "Put",
    "RecordedEvent",
    "Retire",
    "Snapshot",
    "StreamNotFound",
    "StreamTail",
    "UniquenessViolation",
    "VersionMismatch",
    "ViewKey",
    "ViewReader",
    "ViewStore",
    "applies",
]
