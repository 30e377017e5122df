"""DynamoDB stream event source mappings, polled through the Streams API as Lambda does.

With a ParallelizationFactor N, each shard's records go to N lanes by their partition key
(`lane_of`), each lane delivering one batch at a time, its retries and bisections its own:
up to N batches of one shard run at once, and a key's records stay in order (they share
a lane). A failing batch holds back its own lane only. The pump also runs the template's
SQS mappings (devstack/queues.py), so `wait_idle` waits for every event source."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from devstack.destinations import FailureDestinations
from devstack.filters import matches_any
from devstack.logs import LogSink
from devstack.queues import QueuePoller, failed_ids
from devstack.runtime import Invoker, InvokeResult
from devstack.sam import StreamMappingSpec
from devstack.stream_records import lambda_record, sequence_number

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

POLL_SECONDS = 0.05
IDLE_POLL_SECONDS = 0.25
"""How often a shard that answered nothing is read again, at the most: Lambda's poller reads
each shard about four times a second. Polled every POLL_SECONDS instead, an idle local
stack spent a fifth of a core on empty GetRecords pages."""
DISCOVERY_SECONDS = 1.0
_PAGE = 1000
_MAX_BACKOFF_SECONDS = 2.0


def _iso(epoch: float, *, millis: bool) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


Record = dict[str, Any]


@dataclass
class _Segment:
    """Records retried together; halves of a bisected batch keep their parent's counts."""

    records: list[Record]
    retries: int = 0
    invocations: int = 0


@dataclass(frozen=True)
class BatchFailure:
    """Records from `index` on failed (0: all); `function_error`: it raised or timed out."""

    index: int
    function_error: bool


def batch_failure(
    result: InvokeResult, records: Sequence[Record], report_item_failures: bool
) -> BatchFailure | None:
    """How an invocation of `records` failed, or None when the whole batch succeeded."""
    positions = {sequence_number(record): index for index, record in enumerate(records)}
    failed = failed_ids(result, list(positions), report_item_failures)
    if not failed:
        return None
    # Lambda checkpoints just before the lowest failed record and retries from there
    return BatchFailure(min(positions[f] for f in failed), function_error=not result.ok)


def split_expired(
    records: Sequence[Record], maximum_age_seconds: int, now: float
) -> tuple[list[Record], list[Record]]:
    """(too old, still fresh) by `MaximumRecordAgeInSeconds` (-1: records never expire)."""
    if maximum_age_seconds < 0:
        return [], list(records)
    expired: list[Record] = []
    fresh: list[Record] = []
    for record in records:
        created = record["dynamodb"].get("ApproximateCreationDateTime", now)
        (expired if created < now - maximum_age_seconds else fresh).append(record)
    return expired, fresh


def lane_of(record: Mapping[str, Any], hash_key: str | None, lanes: int) -> int:
    """The lane a record goes to among `lanes`: by its partition key, as Lambda does with a
    ParallelizationFactor, so one key's records stay in one lane, in order."""
    if lanes <= 1:
        return 0
    keys = record.get("dynamodb", {}).get("Keys") or {}
    value = keys.get(hash_key) if hash_key else None
    text = json.dumps(value if value is not None else keys, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % lanes


class _Lane:
    """One of a shard's ParallelizationFactor lanes: its records, in read order, delivered
    one batch at a time (so a key's records never overtake each other)."""

    def __init__(self, reader: _ShardReader, index: int) -> None:
        self.reader = reader
        self.buffer: list[Record] = []
        self.first_buffered: float | None = None
        self.busy = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(
            target=self._run,
            name=f"pump-{reader._spec.function_logical_id}-{reader.shard_id}-{index}",
            daemon=True,
        )

    def add(self, record: Record) -> None:
        with self.lock:
            if not self.buffer:
                self.first_buffered = time.monotonic()
            self.buffer.append(record)

    @property
    def empty(self) -> bool:
        with self.lock:
            return not self.buffer and not self.busy

    def _take_batch(self) -> list[Record] | None:
        spec = self.reader._spec
        with self.lock:
            if not self.buffer:
                return None
            full = len(self.buffer) >= spec.batch_size or self.reader.finished
            waited = time.monotonic() - (self.first_buffered or 0.0)
            if not full and waited < spec.batching_window_seconds:
                return None
            batch = self.buffer[: spec.batch_size]
            del self.buffer[: spec.batch_size]
            self.first_buffered = time.monotonic() if self.buffer else None
            self.busy = True
            return batch

    def _run(self) -> None:
        reader = self.reader
        stop = reader._pump.stopping
        while not stop.is_set():
            batch = self._take_batch()
            if batch is None:
                if reader.finished and self.empty:
                    return
                stop.wait(reader._pump.poll_seconds)
                continue
            try:
                reader._deliver(batch)
            finally:
                with self.lock:
                    self.busy = False


class _ShardReader:
    """Reads one shard in order and hands each record to its lane (ParallelizationFactor
    lanes, each delivering one batch at a time; one lane: one batch per shard at a time)."""

    def __init__(self, mapping: _MappingPoller, shard_id: str, position: str) -> None:
        self._mapping = mapping
        self._pump = mapping.pump
        self._spec: StreamMappingSpec = mapping.spec
        self.shard_id: str = shard_id
        self._position = position
        self._last_read: str | None = None
        self.caught_up_at = -1.0
        self.finished = False
        self.lanes = [_Lane(self, i) for i in range(max(1, self._spec.parallelization_factor))]
        self.thread = threading.Thread(
            target=self._run, name=f"pump-{self._spec.function_logical_id}-{shard_id}", daemon=True
        )

    @property
    def done(self) -> bool:
        """Read to its end (a closed shard) and every record delivered."""
        return self.finished and self.drained

    @property
    def drained(self) -> bool:
        return all(lane.empty for lane in self.lanes)

    def start(self) -> None:
        for lane in self.lanes:
            lane.thread.start()
        self.thread.start()

    def _buffered(self) -> int:
        return sum(len(lane.buffer) for lane in self.lanes)

    # ------------------------------------------------------------------ reading
    def _iterator(self) -> str | None:
        streams = self._mapping.streams
        request: dict[str, Any] = {"StreamArn": self._spec.stream_arn, "ShardId": self.shard_id}
        if self._last_read is not None:
            request.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._last_read
            )
        else:
            request["ShardIteratorType"] = self._position
        return streams.get_shard_iterator(**request).get("ShardIterator")

    def _run(self) -> None:
        stop = self._pump.stopping
        iterator: str | None = None
        room = self._spec.batch_size * len(self.lanes)
        idle_wait = self._pump.poll_seconds
        while not stop.is_set():
            polled_at = time.monotonic()
            got = 0
            try:
                if iterator is None and not self.finished:
                    iterator = self._iterator()
                    if iterator is None:
                        self.finished = True  # a closed shard read to its end
                if iterator is not None and self._buffered() < room:
                    response = self._mapping.streams.get_records(
                        ShardIterator=iterator, Limit=_PAGE
                    )
                    iterator = cast("str | None", response.get("NextShardIterator"))
                    if iterator is None:
                        self.finished = True
                    got = len(response["Records"])
                    self._take(response["Records"])
            except (ClientError, BotoCoreError) as error:
                # an expired or lost iterator: continue after the last record read
                self._pump.log(f"[pump] {self._spec.source_name}: {error}; re-reading")
                iterator = None
                stop.wait(1.0)
                continue
            if self.finished:
                return  # the lanes deliver what is left
            if got == 0 and self.drained:
                self.caught_up_at = polled_at
            if got == 0:
                # an empty page: the next one a little later, up to IDLE_POLL_SECONDS
                stop.wait(idle_wait)
                idle_wait = min(idle_wait * 2, max(IDLE_POLL_SECONDS, self._pump.poll_seconds))
            else:
                idle_wait = self._pump.poll_seconds

    def _take(self, raw_records: Sequence[Mapping[str, Any]]) -> None:
        spec = self._spec
        for raw in raw_records:
            record = lambda_record(raw, stream_arn=spec.stream_arn, region=self._pump.region)
            self._last_read = sequence_number(record)
            # filtered-out records are dropped for good: the checkpoint moves past them
            if matches_any(spec.filters, record):
                lane = lane_of(record, self._mapping.hash_key, len(self.lanes))
                self.lanes[lane].add(record)

    # ------------------------------------------------------------------ delivering
    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        spec = self._spec
        queue = deque([_Segment(batch)])
        while queue and not self._pump.stopping.is_set():
            segment = queue[0]
            expired, segment.records = split_expired(
                segment.records, spec.maximum_record_age_seconds, time.time()
            )
            if expired:
                self._park(expired, "RecordAgeExceeded", segment.invocations, None)
            if not segment.records:
                queue.popleft()
                continue
            result = self._pump.invoke(spec.function_logical_id, {"Records": segment.records})
            segment.invocations += 1
            failure = batch_failure(result, segment.records, spec.report_batch_item_failures)
            self._pump.log(  # the one line per batch of `make run`
                f"[pump] {spec.source_name} -> {spec.function_logical_id}: "
                f"{len(segment.records)} records {result.duration_ms:.0f}ms "
                + ("ok" if failure is None else f"failed from record {failure.index + 1}")
            )
            if failure is None:
                queue.popleft()
                continue
            # everything before the failed record is checkpointed
            segment.records = segment.records[failure.index :]
            if failure.function_error and spec.bisect_on_error and len(segment.records) > 1:
                # halves keep the retry count: a split itself does not use up a retry here
                half = len(segment.records) // 2
                queue.popleft()
                for part in (segment.records[half:], segment.records[:half]):
                    queue.appendleft(_Segment(part, segment.retries, segment.invocations))
                continue
            segment.retries += 1
            if 0 <= spec.maximum_retry_attempts < segment.retries:
                self._park(segment.records, "RetryAttemptsExhausted", segment.invocations, result)
                queue.popleft()
                continue
            self._pump.stopping.wait(min(0.1 * 2 ** (segment.retries - 1), _MAX_BACKOFF_SECONDS))

    def _park(
        self,
        records: list[dict[str, Any]],
        condition: str,
        invocations: int,
        result: InvokeResult | None,
    ) -> None:
        spec = self._spec
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if result is not None and not result.ok:
            response["functionError"] = "Unhandled"
        first = records[0]["dynamodb"].get("ApproximateCreationDateTime", 0)
        last = records[-1]["dynamodb"].get("ApproximateCreationDateTime", 0)
        message = {
            "requestContext": {
                "requestId": result.request_id if result is not None else str(uuid.uuid4()),
                "functionArn": self._mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(time.time(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": sequence_number(records[0]),
                "endSequenceNumber": sequence_number(records[-1]),
                "approximateArrivalOfFirstRecord": _iso(first, millis=False),
                "approximateArrivalOfLastRecord": _iso(last, millis=False),
                "batchSize": len(records),
                "streamArn": spec.stream_arn,
            },
        }
        where = f"{spec.function_logical_id}.{spec.source_name}"
        if spec.on_failure_arn is None:
            self._pump.log(f"[pump] {where}: {len(records)} records discarded ({condition})")
            return
        self._pump.log(
            f"[pump] {where}: {len(records)} records skipped ({condition}); "
            f"batch info sent to {spec.on_failure_arn}"
        )
        self._mapping.destinations.send(spec.on_failure_arn, message)


class _MappingPoller:
    """One event source mapping: finds the stream's shards and reads each (parents first)."""

    def __init__(self, pump: StreamPump, spec: StreamMappingSpec) -> None:
        self.spec = spec
        self.streams, self.destinations = (
            (pump.streams, pump.destinations)
            if pump.as_function is None
            else pump.as_function(spec.function_logical_id)
        )
        self.pump = pump
        self.function_arn = pump.function_arns.get(spec.function_logical_id, "")
        self.readers: dict[str, _ShardReader] = {}
        self.hash_key: str | None = None
        """The table's partition key attribute (DescribeStream's KeySchema): what lanes hash."""
        self.discovered_at = -1.0
        self._pending: dict[str, tuple[str | None, str]] = {}
        self.thread = threading.Thread(
            target=self._run, name=f"pump-{spec.function_logical_id}", daemon=True
        )

    def _shards(self) -> list[Mapping[str, Any]]:
        shards: list[Mapping[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.spec.stream_arn}
        while True:
            description = self.streams.describe_stream(**request)["StreamDescription"]
            for key in description.get("KeySchema") or []:
                if key.get("KeyType") == "HASH":
                    self.hash_key = str(key["AttributeName"])
            shards.extend(description.get("Shards") or [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _run(self) -> None:
        first = True
        while not self.pump.stopping.is_set():
            started = time.monotonic()
            try:
                for shard in self._shards():
                    shard_id = str(shard["ShardId"])
                    if shard_id not in self.readers and shard_id not in self._pending:
                        # shards that exist at start honour StartingPosition; later ones start at 0
                        position = self.spec.starting_position if first else "TRIM_HORIZON"
                        self._pending[shard_id] = (shard.get("ParentShardId"), position)
            except (ClientError, BotoCoreError) as error:
                self.pump.log(f"[pump] {self.spec.source_name}: cannot describe stream: {error}")
            else:
                first = False
                self._start_ready_shards()
                self.discovered_at = started
            self.pump.stopping.wait(DISCOVERY_SECONDS)

    def _start_ready_shards(self) -> None:
        for shard_id, (parent, position) in list(self._pending.items()):
            parent_reader = self.readers.get(parent) if parent else None
            parent_pending = parent in self._pending if parent else False
            if parent_pending or (parent_reader is not None and not parent_reader.done):
                continue  # records of a key stay in order: the parent shard goes first
            del self._pending[shard_id]
            reader = _ShardReader(self, shard_id, position)
            self.readers[shard_id] = reader
            reader.start()

    def idle_since(self, mark: float) -> bool:
        if self.discovered_at < mark or self._pending:
            return False
        return all(
            reader.done or (reader.drained and reader.caught_up_at >= mark)
            for reader in list(self.readers.values())
        )


class StreamPump:
    """Runs every DynamoDB stream mapping of the template."""

    def __init__(
        self,
        mappings: Sequence[StreamMappingSpec],
        *,
        streams: DynamoDBStreamsClient,
        invoke: Invoker,
        destinations: FailureDestinations,
        function_arns: Mapping[str, str],
        region: str,
        log: LogSink,
        poll_seconds: float = POLL_SECONDS,
        as_function: Callable[[str], tuple[DynamoDBStreamsClient, FailureDestinations]]
        | None = None,
    ) -> None:
        """`as_function(logical_id)`, when given, answers the stream client and destinations
        a mapping uses: Lambda's poller reads the stream and sends to the on-failure
        destination with the function's role, so the local pump does too."""
        self.streams = streams
        self._invoke = invoke
        self._in_flight: dict[object, tuple[str, float]] = {}
        self._flight_lock = threading.Lock()
        self.destinations = destinations
        self.as_function = as_function
        self.function_arns = dict(function_arns)
        self.region = region
        self.log = log
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._pollers = [_MappingPoller(self, spec) for spec in mappings]
        self.queues: list[QueuePoller] = []

    def invoke(self, function: str, event: Any) -> InvokeResult:
        """Invoke `function`, noting the batch in flight and when it started (`in_flight`)."""
        token = object()
        with self._flight_lock:
            self._in_flight[token] = (function, time.time())
        try:
            return self._invoke(function, event)
        finally:
            with self._flight_lock:
                del self._in_flight[token]

    def in_flight(self) -> dict[str, float]:
        """Each function's oldest stream batch in flight: when it started (epoch seconds).
        What a local rebuild's fence waits on (GET /_devstack/readers)."""
        oldest: dict[str, float] = {}
        with self._flight_lock:
            flying = list(self._in_flight.values())
        for function, started in flying:
            oldest[function] = min(started, oldest.get(function, started))
        return oldest

    def add_queues(self, pollers: Sequence[QueuePoller]) -> None:
        """SQS mappings (devstack/queues.py), started, awaited and stopped with the streams'."""
        self.queues.extend(pollers)

    def start(self) -> None:
        for poller in self._pollers:
            poller.thread.start()
        for queue in self.queues:
            queue.start()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once every shard was read to its end after this call and no batch is in flight."""
        mark = time.monotonic()
        deadline = mark + timeout
        while not (
            all(poller.idle_since(mark) for poller in self._pollers)
            and all(queue.idle_since(mark) for queue in self.queues)
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"stream pump still busy after {timeout} s")
            time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        threads = [poller.thread for poller in self._pollers]
        readers = [r for poller in self._pollers for r in list(poller.readers.values())]
        threads += [r.thread for r in readers]
        threads += [lane.thread for r in readers for lane in r.lanes]
        threads += [thread for queue in self.queues for thread in queue.threads]
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0.0))
