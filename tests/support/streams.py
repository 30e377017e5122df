"""Read the event table's DynamoDB stream (moto) and shape records as Lambda delivers them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def stream_records(client: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream so far, in Lambda's shape, event items only
    (the template's FilterCriteria)."""
    import boto3

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            shaped: dict[str, Any] = dict(record)
            dynamodb = dict(shaped["dynamodb"])
            created = dynamodb.get("ApproximateCreationDateTime")
            if isinstance(created, datetime):
                dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
            shaped["dynamodb"] = dynamodb
            shaped["eventSourceARN"] = arn
            if (dynamodb.get("NewImage") or {}).get("kind", {}).get("S") == "event":
                records.append(shaped)
    return records


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])
