"""Read the event table's DynamoDB stream (moto) and deliver records as Lambda would: shaped
by the local stack's own record builder, filtered by the function's FilterCriteria as
template.yaml declares them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from devstack.filters import matches_any
from devstack.stream_records import lambda_record
from devstack.stream_records import sequence_number as sequence_number
from tests.support.template import REGION, stream_mapping

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def stream_records(
    client: DynamoDBClient, table: str, function: str = "ProjectorFunction"
) -> list[dict[str, Any]]:
    """Every record of the table's stream so far, in Lambda's shape, that `function`'s
    mapping lets through (its FilterCriteria)."""
    import boto3

    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    filters = stream_mapping(function).filters
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for raw in page["Records"]:
                record = lambda_record(raw, stream_arn=arn, region=REGION)
                if not filters or matches_any(filters, record):
                    records.append(record)
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


class StreamFollower:
    """The records of a table's stream appended after it was made, each read once (for
    tests whose tables hold too many records to read them all again and again)."""

    def __init__(self, client: DynamoDBClient, table: str, function: str = "ProjectorFunction"):
        import boto3

        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.filters = stream_mapping(function).filters
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self.iterators = [
            self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        ]

    def new_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for n, iterator in enumerate(self.iterators):
            while True:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page["NextShardIterator"]
                for raw in page["Records"]:
                    record = lambda_record(raw, stream_arn=self.arn, region=REGION)
                    if not self.filters or matches_any(self.filters, record):
                        records.append(record)
                if not page["Records"]:
                    break
            self.iterators[n] = iterator
        return records


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
