"""Idempotent requests kept in a dict: the HTTP layer's tests on fakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.idempotency import (
    Answer,
    IdempotentRequests,
    RemainingTime,
    fingerprint,
    reused,
    unchanged,
)

_KEY = b"fake-fingerprint-key"


class InMemoryIdempotentRequests(IdempotentRequests):
    """The same contract, kept in a dict (for tests of the HTTP layer on fakes)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], tuple[str, Answer]] = {}

    def run(
        self,
        scope: str,
        key: str,
        body: Any,
        compute: Callable[[], Answer],
        context: RemainingTime,
        *,
        keep: Callable[[Answer], Answer] = unchanged,
        replay: Callable[[Answer], Answer] = unchanged,
    ) -> Answer:
        digest = fingerprint(_KEY, body)
        seen = self.kept.get((scope, key))
        if seen is not None:
            if seen[0] != digest:
                raise reused()
            return replay(seen[1])
        answer = compute()
        self.kept[(scope, key)] = (digest, keep(answer))
        return answer
