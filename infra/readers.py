"""The stream readers as an operator sees them: where each stands, what it parked, and how
to get a parked batch going again (`eventshop-admin status`, `failures`, `redrive`).

A parked batch is the message Lambda (or the local stack's pump) sends to a reader's
on-failure queue: its shard and range of sequence numbers. The records themselves are read
back from the table's stream (kept 24 hours) to name the streams and versions; the error
is the reader's own record of it (infra/dynamodb/progress.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.identity.process import MAIL_DUE_AFTER
from domain.processes import ORDER_STREAMS, USER_STREAMS
from domain.projections import all_projections
from event_sourcing.dynamodb.progress import Failure, ReaderProgress
from event_sourcing.projector import Generation
from infra.container import Container

MAX_BEHIND = 10_000
"""Counting the records a reader is behind stops here (shown as "10000+")."""


@dataclass(frozen=True)
class Reader:
    name: str
    function: str
    """The template's logical id of its function."""
    queue_output: str
    follows: Callable[[dict[str, Any]], bool]
    """Which table-stream records it is given: its mapping's FilterCriteria (template.yaml)."""


def _event(image: dict[str, Any]) -> bool:
    return bool(image.get("kind", {}).get("S") == "event")


def _processed(image: dict[str, Any]) -> bool:
    stream_id = str(image["stream_id"]["S"])
    if stream_id.startswith(ORDER_STREAMS):
        return True
    return stream_id.startswith(USER_STREAMS) and image.get("type", {}).get("S") in MAIL_DUE_AFTER


READERS = (
    Reader("projector", "ProjectorFunction", "ProjectorFailureQueueUrl", _event),
    Reader(
        "order-process",
        "OrderProcessFunction",
        "OrderProcessFailureQueueUrl",
        lambda image: _event(image) and _processed(image),
    ),
)


@dataclass(frozen=True)
class ReaderStatus:
    """Where one stream reader stands (`status` and the console show it)."""

    reader: str
    position: str | None
    newest_applied_event_at: str | None
    lag_seconds: float | None
    events_behind: int
    events_behind_at_least: bool
    held_back: int
    applied: int
    parked_batches: int | None
    """None when the stack names no on-failure queue for it."""
    last_batch_at: str | None
    last_error: Failure | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProjectionStatus:
    """One projection's generations, beside the version its code builds."""

    projection: str
    live: Generation
    building: Generation | None
    retiring: Generation | None
    code_version: int

    @property
    def needs_rebuild(self) -> bool:
        return self.live.version != self.code_version

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "needs_rebuild": self.needs_rebuild}


@dataclass
class Parked:
    """One message of an on-failure queue, decoded."""

    id: str
    reader: str
    receipt: str
    condition: str
    arrived: str | None
    shard: str
    first: str
    last: str
    streams: dict[str, list[int]] = field(default_factory=dict)
    """The event streams of the parked records, and their versions."""
    errors: dict[str, str] = field(default_factory=dict)
    trimmed: bool = False
    """The records are gone from the stream (24 h): streams come from the reader's log."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reader": self.reader,
            "condition": self.condition,
            "arrived": self.arrived,
            "shard": self.shard,
            "sequence_numbers": [self.first, self.last],
            "streams": [
                {"stream": s, "versions": v, "error": self.errors.get(s)}
                for s, v in sorted(self.streams.items())
            ],
            "records_trimmed": self.trimmed,
        }


class Operations:
    """Reads and acts on the readers of one stack (deployed or local)."""

    def __init__(self, container: Container, outputs: dict[str, str]) -> None:
        self.container = container
        self.outputs = outputs

    # -- clients -----------------------------------------------------------------------

    def _streams(self) -> Any:
        import boto3

        return boto3.client("dynamodbstreams")

    def _sqs(self) -> Any:
        import boto3

        return boto3.client("sqs")

    def stream_arn(self) -> str:
        arn = self.outputs.get("EventsStreamArn")
        if arn:
            return arn
        table = self.container.setting("EVENTS_TABLE")
        described = self.container.dynamodb.describe_table(TableName=table)["Table"]
        return str(described["LatestStreamArn"])

    def queue(self, reader: Reader) -> str:
        url = self.outputs.get(reader.queue_output)
        if not url:
            raise KeyError(
                f"the stack names no {reader.queue_output} output: deploy this checkout's "
                "template.yaml, or run against the local stack with --local"
            )
        return url

    # -- status ------------------------------------------------------------------------

    def projections(self) -> list[ProjectionStatus]:
        projections = all_projections()
        pointers = self.container.generations.read(projections)
        return [
            ProjectionStatus(
                p.name,
                pointers[p.name].live,
                pointers[p.name].building,
                pointers[p.name].retiring,
                p.version,
            )
            for p in projections
        ]

    def reader(self, reader: Reader) -> ReaderStatus:
        progress = self.progress(reader)
        behind, more = self.behind(reader, progress.sequence_number)
        try:
            parked: int | None = self.parked_count(reader)
        except KeyError:
            parked = None
        return ReaderStatus(
            reader=reader.name,
            position=progress.sequence_number,
            newest_applied_event_at=progress.newest_event_at,
            lag_seconds=age_seconds(progress.newest_event_at),
            events_behind=behind,
            events_behind_at_least=more,
            held_back=progress.held_back,
            applied=progress.applied,
            parked_batches=parked,
            last_batch_at=progress.batch_at,
            last_error=max(progress.errors.values(), key=lambda f: f.at, default=None),
        )

    def progress(self, reader: Reader) -> ReaderProgress:
        return self.container.progress(reader.name).read(reader.name)

    def parked_count(self, reader: Reader) -> int:
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.queue(reader),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def behind(self, reader: Reader, after: str | None) -> tuple[int, bool]:
        """The records for `reader` in the stream after sequence number `after` (all if
        None), and whether counting stopped at MAX_BEHIND."""
        count = 0
        for record in self._records(after=after):
            if reader.follows(record.get("dynamodb", {}).get("NewImage", {})):
                count += 1
                if count >= MAX_BEHIND:
                    return count, True
        return count, False

    def _records(
        self, *, after: str | None = None, shard: str | None = None, up_to: str | None = None
    ) -> Iterator[dict[str, Any]]:
        streams = self._streams()
        arn = self.stream_arn()
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for found in shards:
            if shard is not None and found["ShardId"] != shard:
                continue
            span = found["SequenceNumberRange"]
            ending = span.get("EndingSequenceNumber")
            if after is not None and ending is not None and int(ending) <= int(after):
                continue
            request: dict[str, Any] = {"StreamArn": arn, "ShardId": found["ShardId"]}
            if after is not None and int(span["StartingSequenceNumber"]) <= int(after):
                request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            else:
                request["ShardIteratorType"] = "TRIM_HORIZON"
            iterator = streams.get_shard_iterator(**request).get("ShardIterator")
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                for record in page["Records"]:
                    number = record["dynamodb"]["SequenceNumber"]
                    if up_to is not None and int(number) > int(up_to):
                        return
                    yield record
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")

    # -- failures ----------------------------------------------------------------------

    def parked(self, reader: Reader, *, hold_seconds: int = 0) -> list[Parked]:
        """Every message of the reader's queue, decoded. `hold_seconds` 0 leaves them
        visible to others; redrive holds them while it works."""
        sqs, url = self._sqs(), self.queue(reader)
        seen: dict[str, Parked] = {}
        log = self.progress(reader)
        for _ in range(20):
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=hold_seconds,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen[message["MessageId"]] = self._decode(reader, message, log)
        return list(seen.values())

    def _decode(self, reader: Reader, message: dict[str, Any], log: ReaderProgress) -> Parked:
        body = json.loads(message["Body"])
        info = body.get("DDBStreamBatchInfo") or {}
        parked = Parked(
            id=message["MessageId"],
            reader=reader.name,
            receipt=message["ReceiptHandle"],
            condition=str((body.get("requestContext") or {}).get("condition", "?")),
            arrived=info.get("approximateArrivalOfFirstRecord"),
            shard=str(info.get("shardId", "?")),
            first=str(info.get("startSequenceNumber", "0")),
            last=str(info.get("endSequenceNumber", "0")),
        )
        before = str(int(parked.first) - 1)
        for record in self._records(after=before, shard=parked.shard, up_to=parked.last):
            image = record.get("dynamodb", {}).get("NewImage", {})
            if reader.follows(image):
                stream = image["stream_id"]["S"]
                parked.streams.setdefault(stream, []).append(int(image["version"]["N"]))
        if not parked.streams:
            parked.trimmed = True
            parked.streams = {f.stream_id: [f.version] for f in log.errors.values()}
        for stream in parked.streams:
            failure: Failure | None = log.errors.get(stream)
            if failure is not None:
                parked.errors[stream] = failure.error
        return parked

    # -- redrive -----------------------------------------------------------------------

    def redrive(self, reader: Reader, parked: Parked) -> tuple[bool, str]:
        """Re-apply the parked streams from the event table, in stream order; delete the
        message once every one of them has caught up. Answers (done, what happened)."""
        caught_up = []
        for stream in sorted(parked.streams):
            try:
                self._catch_up(reader, stream)
            except Exception as error:
                return False, f"{stream} still fails: {type(error).__name__}: {error}"
            caught_up.append(stream)
        self._sqs().delete_message(QueueUrl=self.queue(reader), ReceiptHandle=parked.receipt)
        return True, f"{len(caught_up)} streams caught up: " + ", ".join(caught_up)

    def _catch_up(self, reader: Reader, stream: str) -> None:
        if reader.name == "projector":
            self.container.projector.catch_up(stream)
            return
        processes = self.container.processes
        for _ in range(20):  # an order has fewer steps than this, a user fewer still
            events = self.container.event_store.read(stream)
            version = events[-1].version if events else 0
            if processes.handle(stream, version) is None:
                return
        raise RuntimeError(f"{stream} did not settle in 20 steps")


def age_seconds(moment: str | None) -> float | None:
    if moment is None:
        return None
    return (datetime.now(UTC) - datetime.fromisoformat(moment)).total_seconds()
