"""The composition root's own decisions: how long a contended command may keep retrying."""

from __future__ import annotations

from dataclasses import dataclass

from infra.adapters import ANSWER_MARGIN_SECONDS, MIN_RETRY_SECONDS
from infra.container import Container
from tests.support.lambda_context import FakeLambdaContext


@dataclass
class Left:
    millis: int

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_a_contended_command_retries_for_the_invocations_time_less_the_answer_margin() -> None:
    container = Container(env={})
    assert container._time_left() == 5.0  # outside Lambda: the default budget

    container.invocation = FakeLambdaContext()  # 10 s left
    assert container._time_left() == 10.0 - ANSWER_MARGIN_SECONDS

    container.invocation = Left(millis=300)
    assert container._time_left() == MIN_RETRY_SECONDS
