"""Read the event table's DynamoDB stream (moto) and deliver records as Lambda would: shaped
by the local stack's own record builder, filtered by the function's FilterCriteria as
template.yaml declares them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

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
    return admitted(StreamTail(client, table).new_records(), function)


def admitted(records: Iterable[dict[str, Any]], function: str) -> list[dict[str, Any]]:
    """The records `function`'s mapping lets through (its FilterCriteria)."""
    filters = stream_mapping(function).filters
    return [r for r in records if not filters or matches_any(filters, r)]


class StreamTail:
    """The records of a table's stream, each read from moto once: `new_records` answers, in
    Lambda's shape and unfiltered, those appended since it last answered (from the stream's
    start, or from when the tail was made). moto serialises every record of a page anew,
    so reading a long stream from its start at each step costs seconds."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        start: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON",
    ) -> None:
        import boto3

        self.table = table
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.iterators: dict[str, str] = {}
        if start == "LATEST":
            for shard in self._shards():
                self.iterators[shard] = self._iterator(shard, "LATEST")

    def new_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self._shards():
            iterator = self.iterators.get(shard) or self._iterator(shard, "TRIM_HORIZON")
            while True:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page["NextShardIterator"]
                records += [
                    lambda_record(r, stream_arn=self.arn, region=REGION) for r in page["Records"]
                ]
                if not page["Records"]:
                    break
            self.iterators[shard] = iterator
        return records

    def _shards(self) -> list[str]:
        described = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        return [shard["ShardId"] for shard in described["Shards"]]

    def _iterator(self, shard: str, kind: Literal["TRIM_HORIZON", "LATEST"]) -> str:
        return self.streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType=kind
        )["ShardIterator"]


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
