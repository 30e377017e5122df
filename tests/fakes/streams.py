"""A DynamoDB Streams client that behaves as AWS does where our readers could go wrong:
DescribeStream answers a few shards a page (`LastEvaluatedShardId`), children listed before
their parents; every shard's sequence numbers are its own (another shard's may be larger
or smaller); GetRecords answers empty pages in the middle of a shard; a closed shard's
last page has no `NextShardIterator`, an open shard's tip answers empty pages for ever.
It counts its calls (the API's shapes: botocore's dynamodbstreams model)."""

# ruff: noqa: N803  (the parameters are the AWS API's own names, as boto3 passes them)
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class FakeShard:
    id: str
    records: list[dict[str, Any]] = field(default_factory=list)
    parent: str | None = None
    closed: bool = False
    first: int = 0
    """The shard's first sequence number (shards' ranges overlap, as on AWS)."""

    def number(self, index: int) -> str:
        return f"{self.first + index * 10:021d}"


def event_image(
    stream_id: str, version: int, at: datetime, *, type: str = "Happened"
) -> dict[str, Any]:
    return {
        "pk": {"S": stream_id},
        "kind": {"S": "event"},
        "stream_id": {"S": stream_id},
        "version": {"N": str(version)},
        "type": {"S": type},
        "occurred_at": {"S": at.isoformat()},
    }


class FakeStreams:
    def __init__(
        self,
        shards: list[FakeShard],
        *,
        shards_per_page: int = 2,
        records_per_page: int = 2,
        empty_pages: int = 2,
        arn: str = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/1",
    ) -> None:
        self.arn = arn
        self.shards = {s.id: s for s in shards}
        self.listing = sorted(shards, key=lambda s: s.parent is None)  # children first
        self.shards_per_page = shards_per_page
        self.records_per_page = records_per_page
        self.empty_pages = empty_pages
        self.calls: Counter[str] = Counter()

    def add(self, shard_id: str, image: dict[str, Any]) -> str:
        """Append a record (an INSERT of `image`) to an open shard; its sequence number."""
        shard = self.shards[shard_id]
        assert not shard.closed, "a closed shard takes no record"
        number = shard.number(len(shard.records))
        created = datetime.fromisoformat(image["occurred_at"]["S"]).astimezone(UTC)
        shard.records.append(
            {
                "eventName": "INSERT",
                "dynamodb": {
                    "SequenceNumber": number,
                    "ApproximateCreationDateTime": created,  # botocore answers a datetime
                    "NewImage": image,
                },
            }
        )
        return number

    # -- the API ---------------------------------------------------------------------

    def describe_stream(
        self, *, StreamArn: str, Limit: int = 100, ExclusiveStartShardId: str | None = None
    ) -> dict[str, Any]:
        assert StreamArn == self.arn
        self.calls["DescribeStream"] += 1
        ids = [s.id for s in self.listing]
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = self.listing[start : start + min(Limit, self.shards_per_page)]
        description: dict[str, Any] = {
            "StreamArn": self.arn,
            "StreamStatus": "ENABLED",
            "Shards": [
                {
                    "ShardId": s.id,
                    "SequenceNumberRange": {
                        "StartingSequenceNumber": s.number(0),
                        **(
                            {"EndingSequenceNumber": s.number(len(s.records) - 1)}
                            if s.closed
                            else {}
                        ),
                    },
                    **({"ParentShardId": s.parent} if s.parent else {}),
                }
                for s in page
            ],
        }
        if start + len(page) < len(ids):
            description["LastEvaluatedShardId"] = page[-1].id
        return {"StreamDescription": description}

    def get_shard_iterator(
        self,
        *,
        StreamArn: str,
        ShardId: str,
        ShardIteratorType: str,
        SequenceNumber: str | None = None,
    ) -> dict[str, Any]:
        assert StreamArn == self.arn
        self.calls["GetShardIterator"] += 1
        shard = self.shards[ShardId]
        numbers = [r["dynamodb"]["SequenceNumber"] for r in shard.records]
        if ShardIteratorType == "TRIM_HORIZON":
            index = 0
        elif ShardIteratorType == "LATEST":
            index = len(numbers)
        else:
            if SequenceNumber not in numbers:  # AWS: not a sequence number of this shard
                raise ValueError(f"InvalidArgument: {SequenceNumber} is not in {ShardId}")
            index = numbers.index(SequenceNumber)
            if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
                index += 1
        return {"ShardIterator": f"{ShardId}|{index}|0"}

    def get_records(self, *, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        self.calls["GetRecords"] += 1
        shard_id, at, empties = ShardIterator.split("|")
        shard, index, empty = self.shards[shard_id], int(at), int(empties)
        left = len(shard.records) - index
        if left > 0 and empty < self.empty_pages:  # empty pages in the middle of a shard
            return {"Records": [], "NextShardIterator": f"{shard_id}|{index}|{empty + 1}"}
        taken = shard.records[index : index + min(Limit, self.records_per_page)]
        answer: dict[str, Any] = {"Records": taken}
        after = index + len(taken)
        if not (shard.closed and after >= len(shard.records)):
            answer["NextShardIterator"] = f"{shard_id}|{after}|0"
        return answer
