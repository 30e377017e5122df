"""Idempotent requests kept in a dict: the HTTP layer's tests on fakes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infra.idempotency import Answer, IdempotentRequests, reused

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class InMemoryIdempotentRequests(IdempotentRequests):
    """The same contract, kept in a dict (for tests of the HTTP layer on fakes)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], tuple[str, Answer]] = {}

    def run(
        self,
        scope: str,
        key: str,
        body: Any,
        compute: Callable[[], Answer],
        context: LambdaContext | None = None,
    ) -> Answer:
        fingerprint = json.dumps(body, sort_keys=True, default=str)
        seen = self._answers.get((scope, key))
        if seen is not None:
            if seen[0] != fingerprint:
                raise reused()
            return seen[1]
        answer = compute()
        self._answers[(scope, key)] = (fingerprint, answer)
        return answer
