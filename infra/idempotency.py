"""`Idempotency-Key` support through Powertools' idempotency utility on DynamoDB.

A retry with the same key and body answers the stored first answer and runs nothing; the
same key with another body is refused. Refusals and crashes are not stored: a retry decides
again. Three things Powertools does not do by itself, done here:

- **No digest a password could be guessed from.** Powertools hashes the payload with
  unsalted MD5 by default; we hand it an HMAC-SHA256 of the request under a key from
  Secrets Manager (IDEMPOTENCY_KEY_SECRET) instead, so the table's `validation` attribute
  says nothing to someone who can read the table but not the secret.
- **No lock longer than the function.** Every call names the Lambda context: Powertools
  then records when the function's time runs out, and a crashed attempt's INPROGRESS
  record is taken over after that, not after the key's 24 h.
- **A lost ack on the INPROGRESS record is ours.** The put carries this attempt's id; when
  botocore retries a put that landed into the failed condition, the record DynamoDB returns
  names our attempt and the put counts as done (otherwise the request answers "in progress"
  to itself and never runs).

What is kept to replay is the answer; a route whose answer holds a secret (a token) keeps
something else (`keep`) and rebuilds the answer from it (`replay`).

Internal API relied on (aws-lambda-powertools 3.x, pinned below 4 in pyproject): the layer
saves INPROGRESS with `client.put_item(..., ReturnValuesOnConditionCheckFailure="ALL_OLD")`
and reads the record from `ClientError.response["Item"]`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from domain.errors import Conflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Answer = dict[str, Any]
KEY_LIFETIME_SECONDS = 24 * 3600
# Told to a caller whose key is still in progress: the first attempt is at most one
# function timeout old, and usually finishing.
IN_PROGRESS_RETRY_AFTER_SECONDS = 1
_ATTEMPT = "attempt"


class RemainingTime(Protocol):
    """What Powertools reads of the Lambda context: how long the invocation may still run."""

    def get_remaining_time_in_millis(self) -> int: ...


def reused() -> Conflict:
    return Conflict(
        "This Idempotency-Key was already used with a different request body: "
        "use a new key for a new request.",
        code="idempotency_key_reused",
    )


def in_progress() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still in progress: retry shortly.",
        code="idempotency_key_in_progress",
        retry_after_seconds=IN_PROGRESS_RETRY_AFTER_SECONDS,
    )


def fingerprint(key: bytes, request: Any) -> str:
    """HMAC-SHA256 of the request's canonical JSON: equal requests, equal fingerprints;
    nothing about a request's secrets without `key`."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def unchanged(answer: Answer) -> Answer:
    """What is kept of most answers, and how a replay gives it back: the answer itself."""
    return answer


class IdempotentRequests:
    def __init__(
        self, client: DynamoDBClient, table: str, fingerprint_key: Callable[[], bytes]
    ) -> None:
        self.client = client
        self.table = table
        self.fingerprint_key = fingerprint_key

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
        """`compute()` once per (scope, key); replays answer `replay(keep(first answer))`.

        `scope` separates keys by route and caller, so one client's key never replays
        another's answer. The lock on a key lasts while `context` has time left."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        # A layer and a config per call: Powertools keeps the key prefix and the context on
        # them, and a warm container must not carry one call's into the next.
        config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=KEY_LIFETIME_SECONDS,
            hash_function="sha256",
        )
        config.register_lambda_context(context)  # type: ignore[arg-type]
        layer = DynamoDBPersistenceLayer(
            table_name=self.table,
            boto3_client=OwnAttempts(self.client),  # type: ignore[arg-type]
        )
        fresh: list[Answer] = []

        def execute(request: dict[str, Any]) -> Answer:
            answer = compute()
            fresh.append(answer)
            return keep(answer)

        once = idempotent_function(
            execute,
            data_keyword_argument="request",
            persistence_store=layer,
            config=config,
            key_prefix=scope,
        )
        request = {"key": key, "fingerprint": fingerprint(self.fingerprint_key(), body)}
        try:
            kept: Answer = once(request=request)
        except IdempotencyValidationError as other_body:
            raise reused() from other_body
        except IdempotencyAlreadyInProgressError as busy:
            raise in_progress() from busy
        return fresh[0] if fresh else replay(kept)


class OwnAttempts:
    """A DynamoDB client that tags each INPROGRESS put with an attempt id and counts a put
    whose condition failed on its own landed write (a lost ack, retried by botocore) as done."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_item(self, **request: Any) -> Any:
        from botocore.exceptions import ClientError

        attempt = secrets.token_hex(16)
        request["Item"] = {**request["Item"], _ATTEMPT: {"S": attempt}}
        try:
            return self._client.put_item(**request)
        except ClientError as failed:
            answer: dict[str, Any] = dict(failed.response)
            stored: dict[str, Any] = answer.get("Item") or {}
            condition_failed = answer["Error"].get("Code") == "ConditionalCheckFailedException"
            if condition_failed and stored.get(_ATTEMPT) == {"S": attempt}:
                return {}
            raise
