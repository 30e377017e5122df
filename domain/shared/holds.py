"""Keys one bounded context holds and another retires (see `Hold` and `Retire`).

An order holds each catalogue product it has a line of until it is cancelled; deleting
a product retires its key. The store refuses either when it would break the other, so a
product is never deleted from under an order, however close the two requests."""

from __future__ import annotations

from abc import abstractmethod

PRODUCT = "product"

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
