"""A DynamoDB client whose writes all lose their answer: each one lands, then the SDK's retry
sends it again and that second answer is what the caller gets (what botocore does when the
first answer is a 500 or a dropped connection after DynamoDB applied the write)."""

from __future__ import annotations

from typing import Any

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


class LostAcks:
    def __init__(self, client: Any) -> None:
        self._client = client
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in WRITES:
            return method

        def applied_then_retried(**request: Any) -> Any:
            method(**request)  # lands; a refusal here is an answer, not a lost one
            self.lost += 1
            return method(**request)

        return applied_then_retried


LOSING = "dynamodb-losing-every-ack"
"""The contract suites' third parameter: every write lands, then its answer is lost."""


def client_for(param: str, client: Any) -> Any:
    """`client`, or for the LOSING parameter the same client losing every ack."""
    return LostAcks(client) if param == LOSING else client
