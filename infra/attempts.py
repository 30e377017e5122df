"""Counts of failed attempts in a DynamoDB table with TTL (`expires_at`, epoch seconds).

TTL deletes lazily (hours late), so an expired count is ignored on read, not trusted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from domain.identity.ports import AttemptCounter
from event_sourcing.events import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDBAttemptCounter(AttemptCounter):
    def __init__(self, client: DynamoDBClient, table: str, clock: Clock) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def count(self, key: str) -> int:
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")
        if not item or int(item["expires_at"]["N"]) <= self._now():
            return 0
        return int(item["attempts"]["N"])

    def increment(self, key: str, *, ttl_seconds: int) -> int:
        # A live count goes up by one; an expired one (TTL not yet run) restarts at one.
        now = self._now()
        try:
            updated = self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": key}},
                UpdateExpression="SET attempts = if_not_exists(attempts, :zero) + :one, "
                "expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(expires_at) OR expires_at > :now",
                ExpressionAttributeValues={
                    ":exp": {"N": str(now + ttl_seconds)},
                    ":one": {"N": "1"},
                    ":zero": {"N": "0"},
                    ":now": {"N": str(now)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": key},
                    "attempts": {"N": "1"},
                    "expires_at": {"N": str(now + ttl_seconds)},
                },
            )
            return 1
        return int(updated["Attributes"]["attempts"]["N"])

    def reset(self, key: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": key}})
