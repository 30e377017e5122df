"""What the kit raises. None is a business refusal: the edge decides what each means to
its caller (an HTTP status, a retry)."""

from __future__ import annotations


class VersionMismatch(Exception):
    """The caller expected a version of the stream that is not the current one."""

    def __init__(self, *, expected: int, actual: int) -> None:
        self.message = (
            f"The resource is at version {actual}, not {expected}: "
            "read it again and retry with the current version."
        )
        super().__init__(self.message)
        self.expected = expected
        self.actual = actual


class StreamNotFound(Exception):
    """A stream that must exist has no event."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(f"Stream {stream_id!r} has no event.")
        self.stream_id = stream_id


class ConcurrencyError(Exception):
    """Another writer appended to the stream first. Not a refusal: reload and decide again.

    `actual` is the version the store reported at the conflict: at least `expected + 1`."""

    def __init__(self, stream_id: str, *, expected: int, actual: int) -> None:
        super().__init__(
            f"Stream {stream_id!r} moved on: expected version {expected}, found {actual}."
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class UniquenessViolation(Exception):
    """A unique claim (an email, a product name) is already held by another stream."""

    def __init__(self, namespace: str, value: str, owner: str) -> None:
        super().__init__(f"{namespace} {value!r} is already held by {owner!r}")
        self.namespace = namespace
        self.value = value
        self.owner = owner


class KeyRetired(ConcurrencyError):
    """A hold was taken on a retired key (an order took a product deleted meanwhile).
    Not a refusal yet: reload, and the domain refuses on fresh state."""

    def __init__(self, namespace: str, key: str) -> None:
        super().__init__(f"hold#{namespace}#{key}", expected=0, actual=0)
        self.args = (f"{namespace} {key!r} is retired: it cannot be held any more",)
        self.namespace = namespace
        self.key = key


class KeyHeld(Exception):
    """A key cannot be retired while streams hold it (a product some order holds)."""

    def __init__(self, namespace: str, key: str) -> None:
        super().__init__(f"{namespace} {key!r} is held: it cannot be retired")
        self.namespace = namespace
        self.key = key


class HeldTooLate(Exception):
    """The append landed, but the key it took a hold on was being retired meanwhile (a
    product deleted between the catalogue's answer and the order's write): the store has
    let go of that hold again. Not retryable as it is: the holder's events still name the
    key, so its use case undoes what needed it (removes the line, cancels the new order)
    and refuses."""

    def __init__(self, namespace: str, keys: frozenset[str]) -> None:
        super().__init__(f"{namespace} {sorted(keys)} retired while being taken: let go of")
        self.namespace = namespace
        self.keys = keys
