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
    released: bool = False
    """Let the value go instead (an erased user's email): only its owner may, and the value
    can be claimed again at once. Releasing a value nobody holds is a no-op."""

    def release(self) -> Claim:
        return Claim(self.namespace, self.value, self.owner, released=True)


@dataclass(frozen=True)
class Hold:
    """Streams start (`delta` > 0) or stop (< 0) holding a key: an order holding a
    product. Moved in the same write as the events that take or let go of the key, so the
    holds are never behind the streams. Taking a retired key is refused (`KeyRetired`).

    With a `holder` (the stream holding it: what the repository writes), the hold is an
    item of its own, one per holder and key (`delta` is 1 or -1): holders of one key share
    no item, so any number of them take it at once without contending (a flash sale of one
    product). Without one, the store counts the holders of each key in one counter item:
    what the previous release wrote, still honoured and let go of."""

    namespace: str
    key: str
    delta: int
    holder: str | None = None

    def __post_init__(self) -> None:
        if self.delta == 0:
            raise ValueError("a hold changes the count of holders: its delta is not 0")
        if self.holder is not None and self.delta not in (1, -1):
            raise ValueError("a holder takes (1) or lets go of (-1) a key once")


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
