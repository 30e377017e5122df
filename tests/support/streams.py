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
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for raw in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            record = lambda_record(raw, stream_arn=arn, region=REGION)
            if not filters or matches_any(filters, record):
                records.append(record)
    return records


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
