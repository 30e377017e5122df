"""Powertools Logger, Metrics and Tracer, wired so that importing a handler stays cheap.

The Tracer pulls in the X-Ray SDK and botocore (hundreds of milliseconds), so it is built
on the first invocation, when the handler needs boto3 anyway, not at import."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

import infra.container as composition
from infra.container import Container

_PERSONAL = (
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "<email>"),
    # a JWT (an access token, a reset link's token) and a bearer credential
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "<token>"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer <token>"),
)


def redact(text: str) -> str:
    """`text` with email addresses and tokens masked."""
    for pattern, mask in _PERSONAL:
        text = pattern.sub(mask, text)
    return text


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log lines with email addresses and tokens masked. We log none
    ourselves; an exception's message may carry one (SES names a refused recipient)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


logger = Logger(logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "eventshop"))

CORRELATION_ID = 'headers."x-correlation-id" || requestContext.requestId'
"""Where an HTTP request's correlation id is: the caller's header, else the request id."""

Handler = Callable[[dict[str, Any], Any], Any]


def root_now() -> Container:
    """The container the entry point has just handed this invocation."""
    assert composition.current is not None
    return composition.current


def entry_point(
    inner: Callable[[dict[str, Any], Any, Container], Any],
    *,
    correlation_id_path: str | None = None,
) -> Handler:
    """The Lambda entry point around `inner`: logging context, metrics flush, tracing, and
    the composition root (built on the first invocation, kept by the warm container),
    which `inner` receives and passes on: nothing below an entry point looks it up."""
    built: list[Handler] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        # the module's attribute, not a call: a warm invocation enters no composition code
        root = composition.current or composition.container()
        root.invocation = context
        if not built:
            from aws_lambda_powertools import Tracer

            tracer = Tracer()
            # No response in the trace: it holds access tokens, emails and orders.
            traced = tracer.capture_lambda_handler(
                lambda event, context: inner(event, context, root_now()),
                capture_response=False,
            )
            flushed = metrics.log_metrics(traced)
            built.append(
                logger.inject_lambda_context(flushed, correlation_id_path=correlation_id_path)
            )
        return built[0](event, context)

    return handler
