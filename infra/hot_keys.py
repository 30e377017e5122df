"""What the local stack's embedded DynamoDB endpoint tells beyond AWS's APIs: the hottest
partitions of the last minute (devstack/partitions.py serves GET
<endpoint>/_devstack/partitions), which `eventshop-admin partitions --local` prints and
the console's /console/partitions shows, and the stream batches in flight, which a local
rebuild's fence waits on.

Deployed, DynamoDB counts them itself: CloudWatch Contributor Insights on each table and
index (template.yaml) ranks the most accessed and most throttled keys."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

PATH = "/_devstack/partitions"
READERS_PATH = "/_devstack/readers"
"""Each stream reader's oldest batch in flight (devstack/stack.py)."""
READ_LIMIT = 3000.0
"""Read units per second one partition serves."""
WRITE_LIMIT = 1000.0
"""Write units per second one partition takes."""
DEPLOYED = (
    "deployed tables are watched by CloudWatch Contributor Insights (template.yaml enables "
    "it on every table and index): CloudWatch > Insights > Contributor Insights, rules "
    "DynamoDBContributorInsights-*; their throttling alarms notify the alarm topic"
)


class NoCounts(Exception):
    """The counts cannot be read: the message says what to do."""


@dataclass(frozen=True)
class HotPartition:
    """One partition key of a table or index, over the window."""

    table: str
    index: str
    key: str
    read_units_per_second: float
    write_units_per_second: float
    peak_read_units: float
    """The busiest second's read units (DynamoDB's limit is per second)."""
    peak_write_units: float
    reads: int
    writes: int

    @property
    def share_of_limit(self) -> float:
        """The busiest second against the partition's limit (1 = throttled from here)."""
        return max(self.peak_read_units / READ_LIMIT, self.peak_write_units / WRITE_LIMIT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "index": self.index or None,
            "key": self.key,
            "read_units_per_second": round(self.read_units_per_second, 2),
            "write_units_per_second": round(self.write_units_per_second, 2),
            "peak_read_units_per_second": self.peak_read_units,
            "peak_write_units_per_second": self.peak_write_units,
            "reads": self.reads,
            "writes": self.writes,
            "share_of_partition_limit": round(self.share_of_limit, 4),
        }


@dataclass(frozen=True)
class HotKeys:
    window_seconds: int
    partitions: tuple[HotPartition, ...]
    uncounted_requests: int = 0

    def by_table(self) -> dict[tuple[str, str], list[HotPartition]]:
        """Each table's and index's partitions, hottest first, tables in name order."""
        grouped: dict[tuple[str, str], list[HotPartition]] = {}
        for partition in self.partitions:
            grouped.setdefault((partition.table, partition.index), []).append(partition)
        return dict(sorted(grouped.items()))


def read_local(
    endpoint_url: str, tables: Iterable[str] = (), seconds: int = 60, top: int = 5
) -> HotKeys:
    """The local endpoint's counts, only of `tables` (all when empty): the endpoint serves
    every stack of its process."""
    query = f"?seconds={int(seconds)}&top={int(top)}"
    return parse(_local_answer(endpoint_url, PATH + query, "counts partitions"), tables)


def _local_answer(endpoint_url: str, path: str, what: str) -> Any:
    host = urlparse(endpoint_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise NoCounts(f"{endpoint_url} is not a local stack's endpoint; {DEPLOYED}")
    try:
        url = endpoint_url.rstrip("/") + path
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback only)
            return json.loads(answer.read())
    except (URLError, OSError, ValueError) as error:
        raise NoCounts(
            f"the local stack's endpoint {endpoint_url} does not answer {path} ({error}): "
            f"only the embedded endpoint of `make run` {what}"
        ) from error


def projector_released(
    endpoint_url: str, lease_seconds: float, function: str = "ProjectorFunction"
) -> Callable[[datetime], bool] | None:
    """A local rebuild's fence as a condition (`Rebuild.released`): a projector holds the
    pointers it read for `lease_seconds`, so nothing it does can use pointers older than
    `moment` once that lease has passed and no batch of `function` begun before its end is
    still in flight, as the local stack's pump sees it (GET /_devstack/readers). None
    when the endpoint does not answer (a stack on another endpoint): the fixed fence."""
    try:
        _local_answer(endpoint_url, READERS_PATH, "sees its batches")
    except NoCounts:
        return None

    def released(moment: datetime) -> bool:
        leased = moment.timestamp() + lease_seconds
        if time.time() < leased:
            return False
        document = _local_answer(endpoint_url, READERS_PATH, "sees its batches")
        oldest = document.get("in_flight", {}).get(function)
        return oldest is None or float(oldest) >= leased

    return released


def parse(document: Mapping[str, Any], tables: Iterable[str] = ()) -> HotKeys:
    wanted = set(tables)
    return HotKeys(
        int(document.get("window_seconds", 60)),
        tuple(
            HotPartition(
                table=p["table"],
                index=p.get("index") or "",
                key=p["key"],
                read_units_per_second=float(p["read_units_per_second"]),
                write_units_per_second=float(p["write_units_per_second"]),
                peak_read_units=float(p["peak_read_units"]),
                peak_write_units=float(p["peak_write_units"]),
                reads=int(p.get("reads", 0)),
                writes=int(p.get("writes", 0)),
            )
            for p in document.get("partitions", [])
            if not wanted or p["table"] in wanted
        ),
        int(document.get("uncounted_requests", 0)),
    )
