"""Logs and traces carry no personal data (issue #21, item 6): no handler's answer (tokens,
emails, orders) goes into its trace, and an email address or a token an exception's message
carries is masked in the log line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.lambda_context import FakeLambdaContext


def test_the_trace_never_captures_a_handlers_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools import Tracer

    from functions.shared import observability

    asked: dict[str, Any] = {}

    def capture_lambda_handler(self: Tracer, handler: Any, **options: Any) -> Any:
        asked.update(options)
        return handler

    monkeypatch.setattr(Tracer, "capture_lambda_handler", capture_lambda_handler)
    monkeypatch.setattr("infra.container.current", type("Root", (), {})())
    handler = observability.entry_point(lambda event, context, root: {"token": "eyJ.x.y"})

    assert handler({}, FakeLambdaContext()) == {"token": "eyJ.x.y"}
    assert asked["capture_response"] is False


def test_an_email_or_a_token_in_an_exceptions_message_is_masked_in_the_log() -> None:
    import io
    import logging

    from functions.shared.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"
    try:
        raise RuntimeError(f"Email address is not verified: ada@example.com (Bearer {token})")
    except RuntimeError:
        logger.exception("send failed", extra={"stream_id": "user-01abc"})
    finally:
        handler.setStream(previous)

    line = json.loads(written.getvalue().strip().splitlines()[-1])
    printed = json.dumps(line)
    assert "ada@example.com" not in printed
    assert token not in printed
    assert "<email>" in line["exception"]
    assert line["stream_id"] == "user-01abc"
