"""What a decision may reserve beside its own stream, in the same atomic write: unique
claims (an email, a name), holds on keys another stream may retire, retirements.

A holder (an order) keeps a key (a product) until it lets go; retiring the key (deleting
the product) is refused while anyone holds it, and taking a retired key is refused too.
The store checks both in the write, so however close two requests come, neither breaks the
other."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """A unique value (an email, a product name) held by one stream.

    Claimed in the same transaction as the events that need it, so two concurrent
    writers of one value cannot both succeed."""

    namespace: str
    value: str
    owner: str


@dataclass(frozen=True)
class Hold:
    """Streams start (`delta` > 0) or stop (< 0) holding a key: an order holding a
    product. The store counts the holders of each key.

    Moved in the same write as the events that take or let go of the key, so the count is
    never behind the streams. Taking a retired key is refused (`KeyRetired`)."""

    namespace: str
    key: str
    delta: int

    def __post_init__(self) -> None:
        if self.delta == 0:
            raise ValueError("a hold changes the count of holders: its delta is not 0")


@dataclass(frozen=True)
class Retire:
    """Retire a key for good (a deleted product), in the same write as the events that
    say so. Refused while any stream holds the key (`KeyHeld`)."""

    namespace: str
    key: str


Key = tuple[str, str]
"""(namespace, key)"""


class HoldsKeys:
    """Mixed into an aggregate that holds keys of another context (an order, its products).

    The repository takes and lets go of them (`Hold`) in the write of the events that
    change them: it compares `held_keys()` now with what they were when the aggregate was
    last loaded or saved. Aggregates without this mixin hold nothing and carry nothing."""

    _stored_holds: frozenset[Key] = frozenset()

    @abstractmethod
    def held_keys(self) -> frozenset[Key]:
        """The keys this aggregate holds in its current state."""

    def holds_stored(self) -> None:
        """What it holds is what the store now has (after a load or a save)."""
        self._stored_holds = self.held_keys()

    def holds_taken_and_released(self) -> tuple[frozenset[Key], frozenset[Key]]:
        """(keys taken, keys let go of) since the aggregate was loaded or saved."""
        now = self.held_keys()
        return now - self._stored_holds, self._stored_holds - now
