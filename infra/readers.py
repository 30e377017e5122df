"""The readers of the shop's events as an operator sees them: where each stands, what it
parked, and how to get a parked batch going again (`eventshop-admin status`, `failures`,
`redrive`, and the console).

Every reader is an `OperatedReader` (a small protocol): the two readers of the event
table's stream (`StreamReader`: the projector, the order process) are two; a reader of a
queue can sit beside them by answering the same three questions (status, parked, redrive).

One stream reader, `TableStream`, reads the event table's stream for all of them, as AWS
serves it: a stream has many shards, listed a page at a time (`ExclusiveStartShardId`,
`LastEvaluatedShardId`); a shard that split or rolled over is a closed parent of its
children, and records of one item move from the parent to a child, so parents are read
first; `GetRecords` answers empty pages in the middle of a shard, so a shard is read
through them, to its end (a closed shard: `NextShardIterator` absent) or, for an open
shard, until IDLE_PAGES empty pages in a row (its current tip). Sequence numbers are
compared only within one shard.

A parked batch is the message Lambda (or the local stack's pump) sends to a reader's
on-failure queue: its shard and range of sequence numbers. The records themselves are read
back from that shard (kept 24 hours) to name the streams and versions; the error is the
reader's own record of it (event_sourcing/dynamodb/progress.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol

from botocore.exceptions import ClientError

from domain.identity.process import FOLLOWS
from domain.processes import ORDER_STREAMS, USER_STREAMS
from domain.projections import all_projections
from event_sourcing.dynamodb.progress import Failure, ReaderProgress
from event_sourcing.projector import Generation
from infra.container import Container

IDLE_PAGES = 5
"""An open shard has no end to read to: it is read until this many empty `GetRecords`
pages in a row, taken as its tip as of the read (a bound of ours, not one AWS states:
records behind a longer run of empty pages would go uncounted)."""
PAGE = 1000
"""Records per `GetRecords` call (its maximum)."""
SHARDS_PER_PAGE = 100
"""Shards per `DescribeStream` call (its maximum)."""

Record = Mapping[str, Any]


# -- the stream --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    id: str
    parent: str | None
    starting: str | None
    ending: str | None
    """None while the shard is open."""

    @property
    def closed(self) -> bool:
        return self.ending is not None


class TableStream:
    """The event table's stream, read for operations (never for delivery: Lambda's
    mappings do that). Costs: one `DescribeStream` per 100 shards, then per shard read one
    `GetShardIterator` and one `GetRecords` per 1,000 records or empty page."""

    def __init__(self, client: Any, arn: str, *, idle_pages: int = IDLE_PAGES) -> None:
        self.client = client
        self.arn = arn
        self.idle_pages = idle_pages

    def shards(self) -> list[Shard]:
        """Every shard, every page of them, each after its parent (a parent already
        trimmed from the stream is as good as read)."""
        found: dict[str, Shard] = {}
        request: dict[str, Any] = {"StreamArn": self.arn, "Limit": SHARDS_PER_PAGE}
        while True:
            described = self.client.describe_stream(**request)["StreamDescription"]
            for shard in described.get("Shards") or []:
                span = shard.get("SequenceNumberRange") or {}
                found[shard["ShardId"]] = Shard(
                    shard["ShardId"],
                    shard.get("ParentShardId"),
                    span.get("StartingSequenceNumber"),
                    span.get("EndingSequenceNumber"),
                )
            last = described.get("LastEvaluatedShardId")
            if not last:
                break
            request["ExclusiveStartShardId"] = last
        ordered: list[Shard] = []
        placed: set[str] = set()

        def place(shard: Shard) -> None:
            if shard.id in placed:
                return
            placed.add(shard.id)
            if shard.parent in found:
                place(found[shard.parent])
            ordered.append(shard)

        for shard in found.values():
            place(shard)
        return ordered

    def records(
        self,
        shard: Shard,
        *,
        at: str | None = None,
        up_to: str | None = None,
    ) -> Iterator[Record]:
        """The shard's records in order, from sequence number `at` (else its oldest kept)
        through `up_to` (else its end, or its tip if open), read through empty pages."""
        request: dict[str, Any] = {"StreamArn": self.arn, "ShardId": shard.id}
        if at is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request |= {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": at}
        iterator = self.client.get_shard_iterator(**request).get("ShardIterator")
        empty = 0
        while iterator:
            page = self.client.get_records(ShardIterator=iterator, Limit=PAGE)
            for record in page.get("Records") or []:
                if up_to is not None and int(sequence_number(record)) > int(up_to):
                    return  # within one shard, sequence numbers grow
                yield record
            empty = 0 if page.get("Records") else empty + 1
            iterator = page.get("NextShardIterator")  # absent: a closed shard's end
            if iterator and not shard.closed and empty >= self.idle_pages:
                return  # an open shard's tip

    def every(self) -> Iterator[tuple[Shard, Record]]:
        """Every record of every shard, parents before children."""
        for shard in self.shards():
            for record in self.records(shard):
                yield shard, record


def sequence_number(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def image_of(record: Record) -> dict[str, Any]:
    return dict((record.get("dynamodb") or {}).get("NewImage") or {})


def written_at(record: Record) -> datetime:
    """When the record's event happened (its `occurred_at`), else when the stream got it."""
    occurred = image_of(record).get("occurred_at", {}).get("S")
    if occurred:
        moment = datetime.fromisoformat(occurred)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(created or 0), UTC)


# -- where a reader stands ---------------------------------------------------------------


@dataclass
class _ShardTally:
    """One shard, as far as one reader is concerned."""

    position: str | None = None
    """The last record of the shard the reader applied (a batch of it ended there)."""
    last: str | None = None
    """The shard's last record read."""
    behind: int = 0
    oldest_behind: datetime | None = None

    def applied_to(self, number: str) -> None:
        self.position, self.behind, self.oldest_behind = number, 0, None


@dataclass(frozen=True)
class Standing:
    """Where a reader stands in the stream, read from every shard."""

    positions: dict[str, str | None]
    """Per shard, the last record applied (None: none yet)."""
    events_behind: int
    oldest_behind: datetime | None
    shards: int


def standing(
    stream: TableStream, follows: Callable[[dict[str, Any]], bool], progress: ReaderProgress
) -> Standing:
    """Which records the reader is given it has not applied yet, from every shard.

    A batch ending at a kept position (progress.positions) applied every record of its
    shard up to it (Lambda reads each shard in order, one batch at a time, and moves past
    a record only once it is applied or parked). A shard with no kept position is done if
    a child of it has one (a child is read only after its parent); else a record of it
    older than the oldest kept batch end is counted as applied (its batch end may have
    been dropped: MAX_POSITIONS), a newer one as behind."""
    ends = progress.positions
    kept_since = datetime.fromisoformat(min(ends.values())) if progress.positions_dropped else None
    tallies: dict[str, _ShardTally] = {}
    shards = stream.shards()
    for shard in shards:
        tally = tallies[shard.id] = _ShardTally()
        for record in stream.records(shard):
            number = sequence_number(record)
            tally.last = number
            if number in ends:
                tally.applied_to(number)
                continue
            if not follows(image_of(record)):
                continue
            at = written_at(record)
            if tally.position is None and kept_since is not None and at < kept_since:
                continue  # its batch end may have been dropped: counted as applied
            tally.behind += 1
            if tally.oldest_behind is None or at < tally.oldest_behind:
                tally.oldest_behind = at
    for shard in reversed(shards):  # children first: a child with a position ends its parent
        tally = tallies[shard.id]
        if shard.parent in tallies and tally.position is not None:
            parent = tallies[shard.parent]
            if parent.position is None or parent.behind:
                parent.applied_to(parent.last or parent.position or "")
    behind = [t for t in tallies.values() if t.behind]
    return Standing(
        positions={s.id: tallies[s.id].position or None for s in shards},
        events_behind=sum(t.behind for t in behind),
        oldest_behind=min((t.oldest_behind for t in behind if t.oldest_behind), default=None),
        shards=len(shards),
    )


# -- what every reader answers -----------------------------------------------------------


@dataclass(frozen=True)
class ReaderStatus:
    """Where one reader stands (`status` and the console show it)."""

    reader: str
    position: dict[str, str | None]
    """Per shard (or queue), the last record applied."""
    lag_seconds: float
    """The age of the oldest event the reader is given and has not applied; 0 when it
    has applied everything."""
    events_behind: int
    newest_applied_event_at: str | None
    newest_applied_event_age_seconds: float | None
    """How old the newest event it applied is (None: it applied none yet)."""
    parked_batches: int | None
    """None when the stack names no on-failure queue for it."""
    last_error: Failure | None
    held_back: int
    applied: int
    last_batch_at: str | None
    shards: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Parked:
    """One message of a reader's on-failure queue, decoded."""

    id: str
    reader: str
    receipt: str
    condition: str
    arrived: str | None
    shard: str = ""
    first: str = ""
    last: str = ""
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


class OperatedReader(Protocol):
    """What status, failures, redrive and the console ask of one reader of the shop's
    events; a stream reader answers it, and so can a queue's."""

    @property
    def name(self) -> str: ...

    def status(self) -> ReaderStatus: ...

    def parked(self, *, hold_seconds: int = 0) -> list[Parked]:
        """Every parked batch, decoded. `hold_seconds` 0 leaves them visible to others;
        redrive holds them while it works."""
        ...

    def redrive(self, parked: Parked) -> tuple[bool, str]:
        """Apply a parked batch again; remove it once done. (done, what happened)."""
        ...


class ParkedQueue:
    """A reader's on-failure queue (SQS)."""

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url

    def count(self) -> int:
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def messages(self, hold_seconds: int) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for _ in range(20):
            got = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=hold_seconds,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            seen |= {m["MessageId"]: m for m in fresh}
        return list(seen.values())

    def delete(self, receipt: str) -> None:
        self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)


# -- the stream readers ------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """One of the event table's stream readers, as template.yaml maps it."""

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
    return stream_id.startswith(USER_STREAMS) and image.get("type", {}).get("S") in FOLLOWS


READERS = (
    Reader("projector", "ProjectorFunction", "ProjectorFailureQueueUrl", _event),
    Reader(
        "order-process",
        "OrderProcessFunction",
        "OrderProcessFailureQueueUrl",
        lambda image: _event(image) and _processed(image),
    ),
)


class StreamReader:
    """One stream reader (an OperatedReader): its progress item, the table's stream, its
    on-failure queue, and how to apply one event stream again."""

    def __init__(
        self,
        reader: Reader,
        stream: Callable[[], TableStream],
        progress: Callable[[], ReaderProgress],
        queue: Callable[[], ParkedQueue | None],
        catch_up: Callable[[str], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        redriven: Callable[[Parked], None] = lambda parked: None,
    ) -> None:
        self.reader = reader
        self._stream = stream
        self._progress = progress
        self._queue = queue
        self._catch_up = catch_up
        self._now = now
        self._redriven = redriven

    @property
    def name(self) -> str:
        return self.reader.name

    def status(self) -> ReaderStatus:
        progress = self._progress()
        where = standing(self._stream(), self.reader.follows, progress)
        now = self._now()
        queue = self._queue()
        newest = progress.newest_event_at
        return ReaderStatus(
            reader=self.name,
            position=where.positions,
            lag_seconds=(
                0.0
                if where.oldest_behind is None
                else max((now - where.oldest_behind).total_seconds(), 0.0)
            ),
            events_behind=where.events_behind,
            newest_applied_event_at=newest,
            newest_applied_event_age_seconds=(
                None
                if newest is None
                else max((now - datetime.fromisoformat(newest)).total_seconds(), 0.0)
            ),
            parked_batches=None if queue is None else queue.count(),
            last_error=max(progress.errors.values(), key=lambda f: f.at, default=None),
            held_back=progress.held_back,
            applied=progress.applied,
            last_batch_at=progress.batch_at,
            shards=where.shards,
        )

    def applied_through(self, moment: datetime) -> bool:
        """Whether the reader has applied every record it is given that was written up to
        `moment` (a rebuild's switch). A reader that never ran has nothing in flight."""
        progress = self._progress()
        if progress.batch_at is None:
            return True
        where = standing(self._stream(), self.reader.follows, progress)
        return where.oldest_behind is None or where.oldest_behind > moment

    def parked(self, *, hold_seconds: int = 0) -> list[Parked]:
        queue = self._queue()
        if queue is None:
            return []
        messages = queue.messages(hold_seconds)
        if not messages:
            return []
        log, stream = self._progress(), self._stream()
        shards = {s.id: s for s in stream.shards()}
        return [self._decode(m, log, stream, shards) for m in messages]

    def _decode(
        self,
        message: dict[str, Any],
        log: ReaderProgress,
        stream: TableStream,
        shards: Mapping[str, Shard],
    ) -> Parked:
        body = json.loads(message["Body"])
        info = body.get("DDBStreamBatchInfo") or {}
        parked = Parked(
            id=message["MessageId"],
            reader=self.name,
            receipt=message["ReceiptHandle"],
            condition=str((body.get("requestContext") or {}).get("condition", "?")),
            arrived=info.get("approximateArrivalOfFirstRecord"),
            shard=str(info.get("shardId", "?")),
            first=str(info.get("startSequenceNumber", "")),
            last=str(info.get("endSequenceNumber", "")),
        )
        shard = shards.get(parked.shard)
        if shard is not None and parked.first and parked.last:
            try:  # the batch's own range of its own shard: nothing before or after it
                for record in stream.records(shard, at=parked.first, up_to=parked.last):
                    image = image_of(record)
                    if self.reader.follows(image):
                        versions = parked.streams.setdefault(image["stream_id"]["S"], [])
                        versions.append(int(image["version"]["N"]))
            except ClientError:  # TrimmedDataAccessException: older than the stream keeps
                parked.streams.clear()
        if not parked.streams:
            parked.trimmed = True
            parked.streams = {f.stream_id: [f.version] for f in log.errors.values()}
        for name in parked.streams:
            failure = log.errors.get(name)
            if failure is not None:
                parked.errors[name] = failure.error
        return parked

    def redrive(self, parked: Parked) -> tuple[bool, str]:
        """Re-apply the parked streams from the event table, in stream order; delete the
        message once every one of them has caught up."""
        caught_up = []
        for stream in sorted(parked.streams):
            try:
                self._catch_up(stream)
            except Exception as error:
                return False, f"{stream} still fails: {type(error).__name__}: {error}"
            caught_up.append(stream)
        # applied now: its batch ends where the reader's progress says it applied to
        # (`standing`), or status would count its records behind for good
        self._redriven(parked)
        queue = self._queue()
        if queue is not None:
            queue.delete(parked.receipt)
        return True, f"{len(caught_up)} streams caught up: " + ", ".join(caught_up)


# -- one stack's readers -----------------------------------------------------------------


@dataclass(frozen=True)
class QueueConsumer:
    """A queue's consumer (the outside calls): its queue, and where what failed every
    receive is parked (the queue's RedrivePolicy)."""

    name: str
    function: str
    queue_output: str
    dead_letter_output: str


CONSUMERS = (
    QueueConsumer(
        "outside-calls",
        "OutsideCallsFunction",
        "OutsideCallsQueueUrl",
        "OutsideCallsDeadLetterQueueUrl",
    ),
)


@dataclass(frozen=True)
class ConsumerStatus:
    """Where a queue's consumer stands (`status` and the console show it)."""

    consumer: str
    waiting: int
    """Messages not yet received (due calls not made yet)."""
    in_flight: int
    """Received, neither done nor back on the queue yet."""
    parked: int | None
    """On the dead-letter queue (None when the stack names none)."""
    applied: int
    """Messages done since the queue was created (the consumer's own count)."""
    last_error: Failure | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParkedCall:
    """One message of a dead-letter queue, decoded: an outside step that failed every
    receive (`maxReceiveCount`)."""

    id: str
    consumer: str
    receipt: str
    body: str
    stream: str
    step: str
    version: int | None
    receives: int
    sent_at: str | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "consumer": self.consumer,
            "stream": self.stream,
            "step": self.step,
            "version": self.version,
            "receives": self.receives,
            "sent_at": self.sent_at,
            "error": self.error,
        }


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


class Operations:
    """The readers and projections of one stack (deployed or local)."""

    def __init__(
        self,
        container: Container,
        outputs: dict[str, str],
        functions: Callable[[str], Container] | None = None,
    ) -> None:
        """`functions(logical_id)`: the composition root with that function's own
        configuration, which a redrive runs the reader's code with (default: `container`)."""
        self.container = container
        self.outputs = outputs
        self._functions = functions
        self._roots: dict[str, Container] = {}

    def _root(self, function: str) -> Container:
        if self._functions is None:
            return self.container
        if function not in self._roots:
            self._roots[function] = self._functions(function)
        return self._roots[function]

    @cached_property
    def _streams(self) -> Any:
        import boto3

        return boto3.client("dynamodbstreams")

    def stream(self) -> TableStream:
        return TableStream(self._streams, self.stream_arn())

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

    def queue(self, reader: Reader) -> ParkedQueue | None:
        url = self.outputs.get(reader.queue_output)
        if not url:
            return None
        import boto3

        return ParkedQueue(boto3.client("sqs"), url)

    def readers(self, names: Sequence[str] | None = None) -> list[OperatedReader]:
        """Every reader (or those named), in READERS' order."""
        return [self.reader(r) for r in READERS if names is None or r.name in names]

    def reader(self, reader: Reader | str) -> StreamReader:
        """One stream reader, by its spec or its name."""
        spec = next(r for r in READERS if r.name == reader) if isinstance(reader, str) else reader
        return StreamReader(
            spec,
            stream=self.stream,
            progress=lambda: self.container.progress(spec.name).read(spec.name),
            queue=lambda: self.queue(spec),
            catch_up=lambda stream: self._catch_up(spec, stream),
            redriven=lambda parked: self._redriven(spec, parked),
        )

    def _redriven(self, reader: Reader, parked: Parked) -> None:
        if not parked.last or parked.trimmed:
            return  # no batch end to record (its records are gone from the stream anyway)
        self.container.progress(reader.name).record(
            reader.name,
            at=datetime.now(UTC),
            newest_event_at=None,
            sequence_number=parked.last,
            held_back=0,
            applied=sum(len(versions) for versions in parked.streams.values()),
            failures=[],
        )

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

    def _catch_up(self, reader: Reader, stream: str) -> None:
        root = self._root(reader.function)
        if reader.name == "projector":
            root.projector.catch_up(stream)
            return
        # As the reader does: the store's steps here, an outside step (a charge, an email)
        # handed to the outside-calls queue, whose consumer makes it.
        processes = root.processes
        for _ in range(20):  # an order has fewer steps than this, a user fewer still
            events = root.event_store.read(stream)
            version = events[-1].version if events else 0
            cause = f"{stream}@{version}"
            progress = processes.step_in_store(
                stream,
                version,
                correlation_id=stream,
                causation_id=cause,
                queue=self.container.work_queue,
            )
            if progress.done is None:
                return
        raise RuntimeError(f"{stream} did not settle in 20 steps")

    # -- queue consumers -----------------------------------------------------------------

    def _url(self, output: str) -> str:
        url = self.outputs.get(output)
        if not url:
            raise KeyError(
                f"the stack names no {output} output: deploy this checkout's template.yaml, "
                "or run against the local stack with --local"
            )
        return url

    def _counts(self, url: str) -> tuple[int, int]:
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def consumer(self, consumer: QueueConsumer) -> ConsumerStatus:
        waiting, in_flight = self._counts(self._url(consumer.queue_output))
        try:
            parked: int | None = sum(self._counts(self._url(consumer.dead_letter_output)))
        except KeyError:
            parked = None
        log = self.container.progress(consumer.name).read(consumer.name)
        return ConsumerStatus(
            consumer=consumer.name,
            waiting=waiting,
            in_flight=in_flight,
            parked=parked,
            applied=log.applied,
            last_error=max(log.errors.values(), key=lambda f: f.at, default=None),
        )

    def parked_calls(self, consumer: QueueConsumer, *, hold_seconds: int = 0) -> list[ParkedCall]:
        """Every message of the consumer's dead-letter queue, decoded (`hold_seconds` as
        for `parked`)."""
        from infra.work_queue import work_of

        sqs, url = self._sqs(), self._url(consumer.dead_letter_output)
        log = self.container.progress(consumer.name).read(consumer.name)
        seen: dict[str, ParkedCall] = {}
        for _ in range(20):
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=hold_seconds,
                AttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                attributes = message.get("Attributes") or {}
                sent = attributes.get("SentTimestamp")
                try:
                    work = work_of(message["Body"])
                    stream, step, version = work.stream_id, work.step, work.version
                except ValueError as error:
                    stream, step, version = "?", "?", None
                    failure_text: str | None = str(error)
                else:
                    failure = log.errors.get(stream)
                    failure_text = failure.error if failure is not None else None
                seen[message["MessageId"]] = ParkedCall(
                    id=message["MessageId"],
                    consumer=consumer.name,
                    receipt=message["ReceiptHandle"],
                    body=message["Body"],
                    stream=stream,
                    step=step,
                    version=version,
                    # the DLQ's own receive count includes this look: the source's is lost
                    receives=int(attributes.get("ApproximateReceiveCount", 0)),
                    sent_at=None
                    if sent is None
                    else datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat(),
                    error=failure_text,
                )
        return list(seen.values())

    def redrive_call(self, consumer: QueueConsumer, parked: ParkedCall) -> tuple[bool, str]:
        """Send a parked message back to its queue (its consumer decides again on the
        stream's state: a step done meanwhile is not done twice), then delete it here."""
        sqs = self._sqs()
        sqs.send_message(QueueUrl=self._url(consumer.queue_output), MessageBody=parked.body)
        sqs.delete_message(
            QueueUrl=self._url(consumer.dead_letter_output), ReceiptHandle=parked.receipt
        )
        return True, f"{parked.step} of {parked.stream} sent back to the {consumer.name} queue"


def age_seconds(moment: str | None) -> float | None:
    if moment is None:
        return None
    return (datetime.now(UTC) - datetime.fromisoformat(moment)).total_seconds()
