"""Subjects' data keys in their own DynamoDB table, wrapped by a KMS key (envelope
encryption): the table holds only KMS ciphertexts, and only a caller that KMS lets decrypt
under the subject's encryption context can unwrap one.

One item per subject, key `subject` (S): `wrapped` (B, the KMS ciphertext blob) while the
key lives; erasure overwrites it with a tombstone (`erased_at`, no key), so nothing can
give an erased subject a new key. Costs: a key's first use is one GetItem, one KMS
GenerateDataKey and one conditional PutItem; later uses in the same container are free for
the cache's TTL, then one GetItem and one KMS Decrypt."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from event_sourcing.events import iso, parse_iso
from event_sourcing.personal import KeyCache, SubjectErased

CONTEXT = "subject"
"""The KMS encryption context's key: a wrapped key unwraps only for its own subject."""


class DynamoDBKeyStore:
    """The `KeyStore` port over a DynamoDB table and a KMS key (`kms` makes the KMS client,
    on the first key not in the cache)."""

    def __init__(
        self,
        dynamodb: Any,
        kms: Callable[[], Any],
        table: str,
        kms_key_id: str,
        cache: KeyCache | None = None,
    ) -> None:
        self._dynamodb = dynamodb
        self._kms_client = kms
        self._table = table
        self._kms_key_id = kms_key_id
        self._cache = cache if cache is not None else KeyCache()

    def create(self, subject: str) -> bytes:
        found, key = self._cache.get(subject)
        if found and key is not None:
            return key
        stored = self._read(subject)
        if stored is not None:
            return stored
        made = self._kms.generate_data_key(
            KeyId=self._kms_key_id, KeySpec="AES_256", EncryptionContext={CONTEXT: subject}
        )
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "subject": {"S": subject},
                    "wrapped": {"B": made["CiphertextBlob"]},
                    "created_at": {"S": _now()},
                },
                ConditionExpression="attribute_not_exists(subject)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            # Another writer's key, or our own whose answer was lost: either way the stored
            # one is the subject's key from now on.
            stored = self._read(subject)
            if stored is None:
                raise SubjectErased(subject) from None
            return stored
        key = bytes(made["Plaintext"])
        self._cache.put(subject, key)
        return key

    def get(self, subject: str) -> bytes | None:
        found, key = self._cache.get(subject)
        if found:
            return key
        try:
            return self._read(subject)
        except SubjectErased:
            return None

    def destroy(self, subject: str) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={"subject": {"S": subject}, "erased_at": {"S": _now()}},
        )
        self._cache.put(subject, None)

    @cached_property
    def _kms(self) -> Any:
        return self._kms_client()

    def _read(self, subject: str) -> bytes | None:
        """The subject's unwrapped key (None when it has none); SubjectErased if erased."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"subject": {"S": subject}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        if "wrapped" not in item:
            self._cache.put(subject, None)
            raise SubjectErased(subject)
        key = bytes(
            self._kms.decrypt(
                CiphertextBlob=item["wrapped"]["B"],
                KeyId=self._kms_key_id,
                EncryptionContext={CONTEXT: subject},
            )["Plaintext"]
        )
        self._cache.put(subject, key)
        return key


def _now() -> str:
    return iso(datetime.now(UTC))


class DynamoDBErasureLog:
    """The `ErasureLog` port over its own table (key `subject`), which a restore of the
    other tables leaves alone. `since` scans it: an operator's tool after a restore, once,
    over one small item per erased customer (never a request path)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def record(self, subject: str, at: datetime) -> None:
        # Logged before (an erasure retried, or our own write whose answer was lost): the
        # first time stays.
        with suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.put_item(
                TableName=self._table,
                Item={"subject": {"S": subject}, "erased_at": {"S": iso(at)}},
                ConditionExpression="attribute_not_exists(subject)",
            )

    def since(self, moment: datetime) -> list[tuple[str, datetime]]:
        found: list[tuple[str, datetime]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "erased_at >= :since",
            "ExpressionAttributeValues": {":since": {"S": iso(moment)}},
        }
        while True:
            page = self._dynamodb.scan(**request)
            for item in page.get("Items", []):
                found.append((item["subject"]["S"], parse_iso(item["erased_at"]["S"])))
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda e: e[1])
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
