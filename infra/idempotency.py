"""`Idempotency-Key` support through Powertools' idempotency utility on DynamoDB.

A retry with the same key and body answers the stored first answer and runs nothing; the
same key with another body is refused. Refusals are not stored: a retry decides again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from domain.shared.errors import Conflict

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

Answer = dict[str, Any]
KEY_LIFETIME_SECONDS = 24 * 3600


def reused() -> Conflict:
    return Conflict(
        "This Idempotency-Key was already used with a different request body: "
        "use a new key for a new request.",
        code="idempotency_key_reused",
    )


class IdempotentRequests:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        self.layer = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=KEY_LIFETIME_SECONDS,
        )

    def run(
        self,
        scope: str,
        key: str,
        body: Any,
        compute: Callable[[], Answer],
        context: LambdaContext | None = None,
    ) -> Answer:
        """`compute()` once per (scope, key); replays answer what it answered first.

        `scope` separates keys by route and caller, so one client's key never replays
        another's answer."""
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        if context is not None:
            self.config.register_lambda_context(context)

        def execute(request: dict[str, Any]) -> Answer:
            return compute()

        execute = idempotent_function(
            execute,
            data_keyword_argument="request",
            persistence_store=self.layer,
            config=self.config,
            key_prefix=scope,
        )

        try:
            answer: Answer = execute(request={"key": key, "body": body})
        except IdempotencyValidationError as other_body:
            raise reused() from other_body
        except IdempotencyAlreadyInProgressError as busy:
            raise Conflict(
                "A request with this Idempotency-Key is still in progress: retry shortly.",
                code="idempotency_key_in_progress",
            ) from busy
        return answer
