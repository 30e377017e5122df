"""The capacity model (docs/capacity.md): read and write units of each user-facing flow, by
who pays them, its cost at on-demand prices, and its highest sustained rate before one
partition's limit, all from DynamoDB requests counted on the local stack.

Every flow runs through the real handlers, as deployed: `make run`'s stack (devstack), its
HTTP API, authorizer, stream readers and whatever else the template wires up, on moto. The
embedded endpoint counts every request of every function per partition key of every table
and index (devstack/partitions.py: units from item sizes). Each flow runs INSTANCES times
for distinct users, products and orders; after each instance the stack is let settle (the
stream pump idle and no function request for QUIET_SECONDS), so the projector's and the
order process's work (and anything asynchronous added later) is the flow's. The stack's own
requests (this bench checking that an order confirmed) are not counted: no function made
them."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.partitions import Access

INSTANCES = 5
QUIET_SECONDS = 1.0
READ_LIMIT = 3000.0
WRITE_LIMIT = 1000.0
GOAL_ORDERS_PER_SECOND = 1000.0
# DynamoDB on-demand throughput, US East (N. Virginia), Standard table class, since the
# price cut of 1 November 2024: per million request units.
REGION = "us-east-1"
PRICE_PER_MILLION_WRITE_UNITS = 0.625
PRICE_PER_MILLION_READ_UNITS = 0.125
ADMIN = ("admin@capacity.example.com", "capacity admin password")
_ID = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"  # UUID
    r"|[0-9a-hjkmnp-tv-z]{26}"  # ULID (Crockford's base 32)
    r"|[0-9a-f]{20,}",
    re.I,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_NUMBER = re.compile(r"(?<=[#|:-])\d{6,}")


# ------------------------------------------------------------------ the arithmetic
@dataclass(frozen=True)
class Units:
    read: float = 0.0
    write: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.read + other.read, self.write + other.write)

    def per(self, count: int) -> Units:
        return Units(self.read / count, self.write / count)

    def dollars_per_million(self) -> float:
        """What a million of these cost at on-demand prices (REGION)."""
        return self.read * PRICE_PER_MILLION_READ_UNITS + self.write * PRICE_PER_MILLION_WRITE_UNITS

    def cell(self) -> str:
        return f"{self.read:g} / {self.write:g}"


@dataclass(frozen=True)
class Ceiling:
    """The highest sustained rate (per second) before `partition` reaches its limit."""

    rate: float
    partition: str
    unit: str
    """'read' or 'write': which limit it reaches first."""

    def cell(self) -> str:
        return f"{self.rate:,.0f}/s" if self.rate < float("inf") else "none"


def partition_name(access: Access, tables: Mapping[str, str]) -> str:
    """`Table[/index] key`, ids, emails and long numbers replaced, so runs compare."""
    key = _EMAIL.sub("<email>", access.key)
    key = _NUMBER.sub("<n>", _ID.sub("<id>", key))
    where = tables.get(access.table, access.table)
    return f"{where}{f'/{access.index}' if access.index else ''} `{key}`"


def ceilings(
    instances: Sequence[Sequence[Access]], tables: Mapping[str, str]
) -> tuple[Ceiling | None, Ceiling | None]:
    """(all instances distinct, one entity repeating the flow).

    A partition that more than one instance touched is shared by the flow's traffic (an
    index of everything, a counter, a pointer): at a rate of r flows/s it takes r times its
    units per flow (its units over all instances / their count), and the flow's highest
    sustained rate is the lowest limit / that share. A partition one instance alone touched
    belongs to that instance's user, product or order: it limits the rate at which one
    entity repeats the flow (its limit / its units), not the flow's."""
    count = len(instances)
    units: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    touched: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    names: dict[tuple[str, str, str], str] = {}
    spread = {
        part.group(1)
        for accesses in instances
        for access in accesses
        if (part := _SHARD.match(access.key))
    }
    for number, accesses in enumerate(instances):
        for access in accesses:
            key, share = _spread(access.key, spread)
            place = (access.table, access.index, key)
            units[place][0] += access.read_units * share
            units[place][1] += access.write_units * share
            touched[place].add(number)
            names[place] = partition_name(replace(access, key=key), tables)
    shared: list[Ceiling] = []
    alone: list[Ceiling] = []
    for place, (read, write) in units.items():
        many = len(touched[place]) > 1
        per_flow = Units(read, write).per(count if many else 1)
        for unit, used, limit in (
            ("read", per_flow.read, READ_LIMIT),
            ("write", per_flow.write, WRITE_LIMIT),
        ):
            if used > 0:
                (shared if many else alone).append(Ceiling(limit / used, names[place], unit))
    return _lowest(shared), _lowest(alone)


_READER_SLOT = re.compile(r"^(reader#[^#]+)(?:#\d+)?$")
_SHARD = re.compile(r"^(.+)#shard\d+$")


def _spread(key: str, spread: set[str]) -> tuple[str, float]:
    """A partition key, and the share of its accesses that one partition takes.

    Two kinds of items are one of several by a hash: a stream reader's progress (one of
    progress.SLOTS items, by its batch's last sequence number) and the parts of a spread
    collection (one of views.SHARDS, by the document's id: `<collection>#shard<s>`, part 0
    the collection's own key; `spread` holds those collections). At a flow's rate each takes
    its share of the flow; with a few instances, which is the busiest is chance (5 orders'
    30 batches put 6 in one of 16 slots as easily as 5), so the parts count as one place at
    their share of its units. Still an upper bound for a reader: a batch holds one record
    here, many at load."""
    from event_sourcing.dynamodb.progress import SLOTS
    from event_sourcing.views import SHARDS

    slot = _READER_SLOT.match(key)
    if slot:
        return f"{slot.group(1)}#<slot>", 1 / SLOTS
    part = _SHARD.match(key)
    collection = part.group(1) if part else key
    if collection in spread:
        return f"{collection}#<shard>", 1 / SHARDS
    return key, 1.0


def _ceiling_cells(ceiling: Ceiling | None) -> str:
    if ceiling is None:
        return "none | -"
    return f"{ceiling.cell()} | {ceiling.partition} ({ceiling.unit}s)"


def _lowest(found: list[Ceiling]) -> Ceiling | None:
    return min(found, key=lambda c: (c.rate, c.partition)) if found else None


@dataclass(frozen=True)
class FlowCost:
    """One flow: its instances' accesses, and what one instance costs by who pays."""

    name: str
    what: str
    instances: tuple[tuple[Access, ...], ...]

    @property
    def count(self) -> int:
        return len(self.instances)

    def accesses(self) -> Iterable[Access]:
        return (a for instance in self.instances for a in instance)

    def requests(self) -> float:
        return len({a.request for a in self.accesses()}) / self.count

    def by(self, group: Callable[[Access], str]) -> dict[str, Units]:
        sums: dict[str, Units] = defaultdict(Units)
        for access in self.accesses():
            sums[group(access)] += Units(access.read_units, access.write_units)
        return {name: units.per(self.count) for name, units in sums.items()}

    def total(self) -> Units:
        return sum(self.by(lambda a: "").values(), Units())


def combined(name: str, what: str, parts: Sequence[FlowCost]) -> FlowCost:
    """Flows that make one thing (an order: create, place, process), instance by instance."""
    count = min(p.count for p in parts)
    return FlowCost(
        name,
        what,
        tuple(tuple(a for p in parts for a in p.instances[n]) for n in range(count)),
    )


# ------------------------------------------------------------------ the measurement
@dataclass
class Measured:
    flows: list[FlowCost] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    """physical table name -> logical id"""
    routed: set[str] = field(default_factory=set)
    """the functions that serve HTTP routes"""


def group_of(measured: Measured) -> Callable[[Access], str]:
    """Who pays: the idempotency and throttle tables on their own, else the calling function
    (every HTTP route's handler together as 'API handlers')."""

    def group(access: Access) -> str:
        table = measured.tables.get(access.table, access.table)
        if table in ("IdempotencyTable", "ThrottleTable"):
            return table
        if access.caller in measured.routed:
            return "API handlers"
        return access.caller.removesuffix("Function") or "?"

    return group


class _Settle:
    """Wait for the stack to finish a flow's work; keep its functions' accesses."""

    def __init__(self, stack: Any) -> None:
        from devstack import partitions

        self._stack = stack
        self._ledger = partitions.ledger

    def __call__(self) -> tuple[Access, ...]:
        kept: list[Access] = []
        quiet_since = time.monotonic()
        deadline = quiet_since + 120
        while time.monotonic() - quiet_since < QUIET_SECONDS:
            assert time.monotonic() < deadline, "the stack never settled"
            self._stack.pump.wait_idle(timeout=120)
            new = [a for a in self._ledger.take() if a.caller]
            if new:
                kept += new
                quiet_since = time.monotonic()
            time.sleep(0.1)
        return tuple(kept)


def measure() -> Measured:
    import os

    import requests

    from devstack import partitions
    from devstack.logs import discard
    from devstack.stack import LocalStack

    env = {**os.environ, "LOCAL_ADMIN_EMAIL": ADMIN[0], "LOCAL_ADMIN_PASSWORD": ADMIN[1]}
    env.pop("AWS_ENDPOINT_URL", None)
    with LocalStack(
        stack_name=f"capacity-{uuid.uuid4().hex[:6]}",
        env=env,
        parameter_overrides={"BcryptRounds": "4"},
        prewarm=True,
        log=discard,
    ) as stack:
        model = stack.deployment.model
        measured = Measured(
            tables={
                r.physical_name: lid
                for lid, r in stack.deployment.resources.items()
                if r.type == "AWS::DynamoDB::Table"
            },
            routed={route.function_logical_id for route in model.routes},
        )
        session = requests.Session()
        url = stack.url
        settle = _Settle(stack)
        partitions.ledger.keep()

        def call(method: str, path: str, body: Any = None, token: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = session.request(method, url + path, json=body, headers=headers, timeout=60)
            assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
            return answer.json() if answer.content else None

        def flow(name: str, what: str, step: Callable[[int], Any]) -> list[Any]:
            results, instances = [], []
            for n in range(INSTANCES):
                results.append(step(n))
                instances.append(settle())
            measured.flows.append(FlowCost(name, what, tuple(instances)))
            return results

        settle()
        admin = call("POST", "/auth/token", {"email": ADMIN[0], "password": ADMIN[1]})[
            "access_token"
        ]
        category = call("POST", "/categories", {"name": "Capacity"}, token=admin)["id"]
        emails = [f"capacity-{uuid.uuid4().hex}@example.com" for _ in range(INSTANCES)]
        password = "capacity pass word"
        settle()  # the setup's work is not a flow's

        flow(
            "register",
            "`POST /users`",
            lambda n: call("POST", "/users", {"email": emails[n], "password": password}),
        )
        tokens = flow(
            "sign in",
            "`POST /auth/token`",
            lambda n: call("POST", "/auth/token", {"email": emails[n], "password": password})[
                "access_token"
            ],
        )
        flow(
            "authorised request",
            "`GET /users/me`",
            lambda n: call("GET", "/users/me", token=tokens[n]),
        )
        words = [uuid.uuid4().hex for _ in range(INSTANCES)]
        products = flow(
            "create a product",
            "`POST /products` (admin)",
            lambda n: call(
                "POST",
                "/products",
                {
                    "name": f"Thing {words[n]}",
                    "description": "for capacity",
                    "price": "20.00",
                    "category_id": category,
                },
                token=admin,
            )["id"],
        )
        flow(
            "activate a product",
            "`POST /products/{id}/activate` (admin)",
            lambda n: call("POST", f"/products/{products[n]}/activate", token=admin),
        )
        flow(
            "set stock",
            "`PUT /inventory/{id}` (admin)",
            lambda n: call("PUT", f"/inventory/{products[n]}", {"on_hand": 1000}, token=admin),
        )
        flow(
            "search",
            "`GET /products?q=<a word of one product>` (anonymous)",
            lambda n: call("GET", f"/products?q={words[n]}"),
        )
        orders = flow(
            "create an order",
            "`POST /orders`, one line",
            lambda n: call(
                "POST",
                "/orders",
                {"items": [{"product_id": products[n], "quantity": 1}]},
                token=tokens[n],
            )["id"],
        )
        flow(
            "place an order, to confirmation",
            "`POST /orders/{id}/place`, then the order process (stock, payment, email) "
            "and the projections",
            lambda n: call(
                "POST",
                f"/orders/{orders[n]}/place",
                {"payment_method": "pm_card_visa"},
                token=tokens[n],
            ),
        )
        _check_confirmed(stack, orders)
        partitions.ledger.keep(False)
        return measured


def _check_confirmed(stack: Any, orders: Sequence[str]) -> None:
    """Every order of the bench ended confirmed (read as the stack: not counted)."""
    client = stack.clients.dynamodb()
    table = stack.table_name("EventsTable")
    for order in orders:
        items = client.query(
            TableName=table,
            KeyConditionExpression="stream_id = :s",
            ExpressionAttributeValues={":s": {"S": f"order-{order}"}},
            ConsistentRead=True,
        )["Items"]
        types = {item.get("type", {}).get("S") for item in items}
        assert "OrderConfirmed" in types or "ConfirmationSent" in types, (
            order,
            sorted(types - {None}),
        )


# ------------------------------------------------------------------ the document
def measured_on(root: Path) -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    import moto

    commit = git("describe", "--always", "--dirty", "--abbrev=12") or "unknown"
    subject = git("log", "-1", "--format=%s")[:100]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"commit `{commit}` ({subject}), {when}; the local stack of that commit's "
        f"template.yaml (devstack on moto {moto.__version__})"
    )


def document(measured: Measured, root: Path) -> tuple[str, bool]:
    group = group_of(measured)
    flows = list(measured.flows)
    named = {f.name: f for f in flows}
    order = combined(
        "an order",
        "create + place + processing to confirmation",
        [named["create an order"], named["place an order, to confirmation"]],
    )
    flows.append(order)
    columns = ["API handlers", "Authorizer", "Projector", "OrderProcess"]
    seen = {g for f in flows for g in f.by(group)}
    columns += sorted(seen - {*columns, "IdempotencyTable", "ThrottleTable"})
    columns += ["IdempotencyTable", "ThrottleTable"]
    lines = [
        "# Capacity model",
        "",
        "Written by `make bench` (bench/capacity.py): do not edit by hand, run `make bench` "
        "(or `python -m bench capacity`) again after a change of design.",
        "",
        f"Measured on: {measured_on(root)}. Each flow ran {INSTANCES} times, for distinct "
        "users, products and orders, through the real handlers: the HTTP API, the "
        "authorizer, the stream readers and every other function the template wires up. The "
        "embedded DynamoDB endpoint counted every request of every function on every table "
        "and index (devstack/partitions.py), and the units come from the sizes of the items "
        "each request read or wrote: 1 write unit per started KB (the larger of the item "
        "before and after), 1 read unit per started 4 KB (a Query: of all it evaluated), "
        "transactions x2 (a ConditionCheck is a write), eventually consistent reads x0.5, "
        "each secondary index entry written x1 (a moved entry: a delete and a put). moto's "
        "ConsumedCapacity is not used.",
        "",
        "## Units per flow",
        "",
        "Read / write units of one flow, by who pays them: the functions on the event and "
        "views tables, and the idempotency and throttle tables whoever uses them. "
        "Requests: DynamoDB requests of one flow, all functions. The stream readers note "
        "their position once per batch (`reader#...`), so their share varies a little from "
        "run to run with how records fall into batches; the rest is exact.",
        "",
        "| flow | what | requests | "
        + " | ".join(columns)
        + " | total read / write | $ per million |",
        "|---|---|---:|" + "---:|" * len(columns) + "---:|---:|",
    ]
    for f in flows:
        by = f.by(group)
        total = f.total()
        lines.append(
            f"| {f.name} | {f.what} | {f.requests():g} | "
            + " | ".join(by[c].cell() if c in by else "-" for c in columns)
            + f" | {total.cell()} | ${total.dollars_per_million():.2f} |"
        )
    total = order.total()
    lines += [
        "",
        "## Cost per million orders",
        "",
        f"On-demand throughput in {REGION} (US East, N. Virginia), Standard table class: "
        f"${PRICE_PER_MILLION_WRITE_UNITS} per million write request units, "
        f"${PRICE_PER_MILLION_READ_UNITS} per million read request units (prices since "
        "1 November 2024). An order (create, place, process to confirmation, with their "
        f"authorizer, projector, order process, idempotency and throttle units) takes "
        f"{total.read:g} read and {total.write:g} write units: "
        f"**${total.dollars_per_million():,.2f} per million orders** "
        f"(${total.read * PRICE_PER_MILLION_READ_UNITS:,.2f} reads, "
        f"${total.write * PRICE_PER_MILLION_WRITE_UNITS:,.2f} writes). Not in it: storage, "
        "point-in-time recovery, Contributor Insights, streams read by Lambda (free), retries "
        "after conflicts or throttles, the customer's sign-in and browsing (rows above).",
        "",
        "## Highest sustained rate before one partition's limit",
        "",
        f"A partition takes {WRITE_LIMIT:,.0f} write and {READ_LIMIT:,.0f} read units a second "
        "whatever the table's capacity. *Distinct*: the flow for distinct users, products and "
        "orders; its ceiling is the partition that more than one instance shared (an index "
        "of everything, a counter, a pointer) at its units per flow. *One entity*: the "
        "busiest partition that one instance used alone (its user's, product's or order's): "
        "the rate at which one entity could repeat the flow. The items a hash spreads a "
        "flow over count as one place at their share of its units: a stream reader's "
        "progress slots (`reader#<name>#<slot>`, 1/16) and the parts of a spread "
        "collection (`<collection>#<shard>`, 1/16). "
        "All products of the bench are in one category, as in a shop with one. "
        f"Goal: no order flow limited below {GOAL_ORDERS_PER_SECOND:,.0f}/s by one partition.",
        "",
        "| flow | distinct: highest rate | partition (limit reached) "
        "| one entity: highest rate | partition (limit reached) |",
        "|---|---:|---|---:|---|",
    ]
    ok = True
    for f in flows:
        shared, alone = ceilings(f.instances, measured.tables)
        if f.name in ("an order", "create an order", "place an order, to confirmation"):
            ok &= shared is None or shared.rate >= GOAL_ORDERS_PER_SECOND
        lines.append(f"| {f.name} | {_ceiling_cells(shared)} | {_ceiling_cells(alone)} |")
    lines += [
        "",
        f"Goal met: {'yes' if ok else 'NO'} (`make bench` fails otherwise).",
        "",
        "## An order's partitions",
        "",
        "Every kind of partition an order's flows touched (ids replaced by `<id>`), by units "
        f"per order; *keys*: how many distinct keys the {order.count} orders used there (1: "
        "one key that every order shares).",
        "",
        "| partition | read units per order | write units per order | keys |",
        "|---|---:|---:|---:|",
    ]
    lines += _partitions(order, measured.tables)
    lines += [
        "",
        "Hot keys of a running stack: `eventshop-admin partitions --local` and the console's "
        "/console/partitions (docs/operations.md); deployed: Contributor Insights.",
        "",
    ]
    return "\n".join(lines), ok


def _partitions(flow: FlowCost, tables: Mapping[str, str]) -> list[str]:
    """Rows: each kind of partition (ids replaced), its units per order, and how many
    distinct keys the orders used: 1 for all of them is a key every order shares."""
    units: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    keys: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for instance in flow.instances:
        for access in instance:
            name = partition_name(access, tables)
            units[name][0] += access.read_units
            units[name][1] += access.write_units
            keys[name].add((access.table, access.index, access.key))
    rows = sorted(
        (-write * 3 - read, name, read / flow.count, write / flow.count, len(keys[name]))
        for name, (read, write) in units.items()
    )
    return [f"| {name} | {read:g} | {write:g} | {n} |" for _, name, read, write, n in rows]
