"""The emails SES sent on moto's in-process backend."""

from __future__ import annotations

from typing import Any


def ses_sent(region: str = "us-east-1") -> list[Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)


def sent_to(address: str, subject: str | None = None) -> list[Any]:
    """What SES sent to `address` (whose subject holds `subject`), oldest first."""
    return [
        m
        for m in ses_sent()
        if address in m.destinations.get("ToAddresses", [])
        and (subject is None or subject in str(m.subject))
    ]
