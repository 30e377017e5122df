"""The hottest partitions of the last minute, as the local stack's embedded DynamoDB endpoint
counts them (devstack/partitions.py serves GET <endpoint>/_devstack/partitions): what
`eventshop-admin partitions --local` prints and the console's /console/partitions shows.

Deployed, DynamoDB counts them itself: CloudWatch Contributor Insights on each table and
index (template.yaml) ranks the most accessed and most throttled keys."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

PATH = "/_devstack/partitions"
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
    host = urlparse(endpoint_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise NoCounts(f"{endpoint_url} is not a local stack's endpoint; {DEPLOYED}")
    url = f"{endpoint_url.rstrip('/')}{PATH}?seconds={int(seconds)}&top={int(top)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback only)
            document = json.loads(answer.read())
    except (URLError, OSError, ValueError) as error:
        raise NoCounts(
            f"the local stack's endpoint {endpoint_url} does not answer {PATH} ({error}): "
            "only the embedded endpoint of `make run` counts partitions"
        ) from error
    return parse(document, tables)


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
