"""eventshop-admin: the operator's tool, against a deployed stack or the local one.

    eventshop-admin [--stack NAME | --local] [--json] COMMAND ...

`--stack NAME` reads every table, queue and stream from the stack's outputs (template.yaml);
`--local` from the running local stack of this checkout (`make run`); with neither, from
the environment, as the functions read it. `--json` prints one JSON document instead of
text. Long work shows a progress bar on stderr (events, events/s, time left)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from domain.access import CommandContext
from domain.errors import DomainError
from domain.identity import service as identity
from domain.projections import all_projections, projection_named
from event_sourcing.events import iso, parse_iso
from event_sourcing.projector import Projection, Projector, Projectors
from infra.container import Container
from infra.generations import (
    FENCE_SECONDS,
    PROJECTOR_LEASE_SECONDS,
    READER_CACHE_SECONDS,
    RETIRE_DELAY_SECONDS,
)
from infra.settings import MissingSetting

if TYPE_CHECKING:
    from infra.readers import ReaderStatus

# A stack's outputs (template.yaml) -> the settings the functions read.
OUTPUTS = {
    "EventsTableName": "EVENTS_TABLE",
    "ViewsTableName": "VIEWS_TABLE",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "ThrottleTableName": "THROTTLE_TABLE",
    "KeysTableName": "KEYS_TABLE",
    "DataKeyId": "DATA_KEY_ID",
}
OPTIONAL_OUTPUTS = {
    "ErasureLogTableName": "ERASURE_LOG_TABLE",  # stacks deployed before it have none
    "SigningKeySecretArn": "SIGNING_KEY_SECRET",
    "IdempotencyKeySecretArn": "IDEMPOTENCY_KEY_SECRET",
    "ResetKeySecretArn": "RESET_KEY_SECRET",
    "PseudonymKeySecretArn": "PSEUDONYM_KEY_SECRET",
}
LOCAL_STACK = "eventshop-local"
"""The local stack `make run` starts (LOCAL_STACK_NAME names another)."""


def _local_file() -> Path:
    """Where a running local stack of this checkout describes itself (devstack/running.py
    writes it)."""
    return Path(".devstack") / f"{os.environ.get('LOCAL_STACK_NAME', LOCAL_STACK)}.json"


class Refused(Exception):
    """The command cannot run as asked: the message says what to do instead."""


@dataclass
class Target:
    name: str
    env: dict[str, str]
    outputs: dict[str, str]
    functions: dict[str, dict[str, str]] = field(default_factory=dict)
    """The local stack's record of its readers' environments (deployed: read from Lambda)."""
    api_url: str = ""
    """The local stack's HTTP API (`seed` goes through it)."""

    def container(self, function: str | None = None) -> Container:
        """The composition root with the stack's settings, and, for `function`, that
        function's own configuration (what its code needs: payment provider, sender)."""
        env = dict(self.env)
        if function is not None:
            env.update(self._function_env(function))
            env.update({k: v for k, v in self.env.items() if k in OUTPUTS.values()})
        return Container(env)

    def _function_env(self, function: str) -> dict[str, str]:
        if function in self.functions:
            return dict(self.functions[function])
        name = self.outputs.get(f"{function}Name")
        if not name:
            return {}
        import boto3

        config = boto3.client("lambda").get_function_configuration(FunctionName=name)
        return dict((config.get("Environment") or {}).get("Variables") or {})


def target_of(args: argparse.Namespace) -> Target:
    if args.stack and args.local:
        raise Refused("--stack and --local name two stacks: pick one")
    if args.local:
        return _local()
    if args.stack:
        outputs = _stack_outputs(args.stack)
        return Target(f"stack {args.stack}", {**os.environ, **_settings(outputs)}, outputs)
    return Target("the environment", dict(os.environ), {})


def _local() -> Target:
    try:
        running = json.loads(_local_file().read_text("utf-8"))
    except (OSError, ValueError) as missing:
        raise Refused(
            "no local stack runs in this checkout: start one with `make run` (another "
            "terminal, same directory) and try again"
        ) from missing
    try:
        os.kill(int(running["pid"]), 0)
    except ProcessLookupError as gone:
        raise Refused("the local stack of this checkout has stopped: `make run` again") from gone
    except PermissionError:
        pass
    environment = dict(running.get("environment") or {})
    host = urlparse(environment.get("AWS_ENDPOINT_URL", "")).hostname or ""
    if not (host == "localhost" or host.startswith("127.")):
        raise Refused(f"the local stack's endpoint {host!r} is not on this machine: refusing")
    os.environ.update(environment)  # boto3 reads its endpoint and credentials from here
    outputs = dict(running.get("outputs") or {})
    return Target(
        f"local stack {running['stack_name']}",
        {**os.environ, **_settings(outputs)},
        outputs,
        functions=dict(running.get("functions") or {}),
        api_url=str(running.get("api_url") or ""),
    )


def _settings(outputs: dict[str, str]) -> dict[str, str]:
    wanted = {**OUTPUTS, **OPTIONAL_OUTPUTS}
    return {env: outputs[key] for key, env in wanted.items() if key in outputs}


def _stack_outputs(stack: str) -> dict[str, str]:
    import boto3

    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = sorted(key for key in OUTPUTS if key not in outputs)
    if missing:
        raise Refused(
            f"stack {stack} has no output {', '.join(missing)}: deploy this checkout's "
            "template.yaml (sam build && sam deploy) and try again"
        )
    return outputs


# -- output ------------------------------------------------------------------------------


class Out:
    """Text lines, or one JSON document at the end (`--json`)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.document: dict[str, Any] = {}

    def line(self, text: str) -> None:
        if not self.as_json:
            print(text)

    def put(self, key: str, value: Any) -> None:
        self.document[key] = value

    def finish(self) -> None:
        if self.as_json:
            print(json.dumps(self.document, indent=2, default=str))

    @contextmanager
    def progress(self, what: str, total: int | None) -> Iterator[Callable[[int], None]]:
        """A bar on stderr (events, events/s, time left) while the block runs; it calls
        the yielded function with the events done since its last call."""
        if self.as_json or not sys.stderr.isatty():
            yield lambda done: None
            return
        from rich.progress import Progress

        with Progress(*progress_columns(), transient=True) as bar:
            task = bar.add_task(what, total=total)
            yield lambda done: bar.advance(task, done)


def progress_columns() -> tuple[Any, ...]:
    """What the bar shows: events done of all, percent, events/s, time left."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class EventsPerSecond(ProgressColumn):
        """rich's own speed column reads bytes/s: this one counts events."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed or 0:,.0f} events/s")

    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TaskProgressColumn(),
        EventsPerSecond(),
        TimeRemainingColumn(),
    )


# -- commands ----------------------------------------------------------------------------


def create_admin(args: argparse.Namespace, target: Target, out: Out) -> int:
    if not args.email:
        raise Refused("--email (or ADMIN_EMAIL) is required")
    password = os.environ.get("ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise Refused("set ADMIN_PASSWORD: there is no terminal to ask for the password")
        password = getpass.getpass("Admin password: ")
    context = CommandContext(f"cli-{uuid.uuid4()}", "cli")
    root = target.container()
    user = identity.ensure_admin(
        root.repository, root.hasher, root.pseudonyms, args.email, password, context
    )
    out.put("admin", {"id": user.id, "email": user.state.email, "version": user.version})
    out.line(f"admin {user.state.email} ready (id {user.id}, version {user.version})")
    return 0


def _projections(name: str | None) -> list[Projection]:
    if name is None:
        return all_projections()
    try:
        return [projection_named(name)]
    except KeyError as unknown:
        raise Refused(str(unknown.args[0])) from unknown


def _approximate_events(container: Container) -> int | None:
    try:
        table = container.setting("EVENTS_TABLE")
        return int(container.dynamodb.describe_table(TableName=table)["Table"]["ItemCount"])
    except Exception:  # the bar then has no total, nothing more
        return None


def rebuild(args: argparse.Namespace, target: Target, out: Out) -> int:
    from event_sourcing.rebuild import Progress, Rebuild, Report
    from infra.readers import Operations

    container = target.container()
    projector = Operations(container, target.outputs).reader("projector")
    released = None
    if args.local:  # the local pump shows its batches: the fence ends when they allow
        from infra.hot_keys import projector_released

        endpoint = target.env.get("AWS_ENDPOINT_URL", "")
        released = projector_released(endpoint, PROJECTOR_LEASE_SECONDS)
    reports = []
    chosen = _projections(args.projection)
    if args.changed:
        pointers = container.generations.read(chosen)
        chosen = [p for p in chosen if pointers[p.name].live.version != p.version]
        if not chosen:
            out.line("every projection's live generation is of its code's version: none to rebuild")
    switched: list[tuple[Rebuild, Report]] = []
    try:
        for projection in chosen:
            total = _approximate_events(container)
            with out.progress(f"rebuild {projection.name}", total) as tick:
                name = projection.name

                def phase(text: str, name: str = name) -> None:
                    out.line(f"{name}: {text}")

                progress = Progress(advanced=lambda streams, events: tick(events), phase=phase)
                rebuilt = Rebuild(
                    projection,
                    container.generations,
                    container.event_store,
                    container.projector_views,
                    container.clock,
                    segments=args.segments,
                    retire_delay=args.drop_after,
                    fence=args.fence,
                    released=released,
                    progress=progress,
                    passed_switch=projector.applied_through,
                    registry=container.repository.events,
                )
                # the old generations are dropped together at the end: their readers'
                # delay runs while the next projections build
                switched.append((rebuilt, rebuilt.run(drop=False)))
    finally:
        for rebuilt, report in switched:
            started = rebuilt.clock.now()
            rebuilt.finish(report)
            waited = (rebuilt.clock.now() - started).total_seconds()
            reports.append({**asdict(report), "drop_waited_seconds": waited})
            resumed = " (resumed)" if report.resumed else ""
            out.line(
                f"{report.projection}: generation {report.generation} (version "
                f"{report.version}){resumed} built from {report.streams} streams, "
                f"{report.events} events, in {report.seconds:.1f} s; readers switched from "
                f"generation {report.replaced}, dropped ({report.dropped} items) after "
                f"{waited:.1f} s more"
            )
    out.put("rebuilt", reports)
    return 0


def replay(args: argparse.Namespace, target: Target, out: Out) -> int:
    since = _time(args.since)
    container = target.container()
    streams = sorted(container.event_store.streams_since(since))
    projector: Projectors | Projector = container.projector
    if args.projection:
        wanted = _projections(args.projection)[0].name
        projector = Projectors(
            container.event_store,
            lambda: [t for t in container.projector.targets() if t.projection.name == wanted],
        )
    applied = 0
    with out.progress("replay", len(streams)) as tick:
        for stream in streams:
            applied += len(projector.catch_up(stream).applied)
            tick(1)
    out.put("replayed", {"since": iso(since), "streams": len(streams), "events_applied": applied})
    out.line(
        f"{len(streams)} streams have events since {iso(since)}; {applied} events were "
        "applied that the views did not have yet (the others were already applied: "
        "duplicates change nothing)"
    )
    return 0


def _time(text: str) -> datetime:
    """An ISO 8601 time, or an age like 90m, 2h, 3d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        return parse_iso(text)
    except ValueError as bad:
        raise Refused(f"--since {text!r}: give an ISO 8601 time or an age like 2h") from bad


def events(args: argparse.Namespace, target: Target, out: Out) -> int:
    after = max((args.from_version or 1) - 1, 0)
    found = target.container().event_store.read(args.stream, after=after, up_to=args.to_version)
    if not found and after == 0:
        raise Refused(
            f"no stream {args.stream!r} has events: stream ids look like product-<id>, "
            "order-<id>, user-<id> (the history routes show an aggregate's)"
        )
    listed: list[dict[str, Any]] = [
        {
            "version": e.version,
            "type": e.type,
            "schema_version": e.schema_version,
            "occurred_at": iso(e.occurred_at),
            "data": dict(e.data),
            "metadata": asdict(e.metadata),
        }
        for e in found
    ]
    out.put("stream", args.stream)
    out.put("events", listed)
    for event in listed:
        meta = event["metadata"]
        out.line(
            f"{event['version']:>5}  {event['occurred_at']}  {event['type']}  "
            f"{json.dumps(event['data'], sort_keys=True)}"
        )
        out.line(
            f"       event {meta['event_id']}  correlation {meta['correlation_id']}  "
            f"causation {meta['causation_id']}  user {meta['user_id']}"
        )
    return 0


def status(args: argparse.Namespace, target: Target, out: Out) -> int:
    from infra.readers import CONSUMERS, Operations

    operations = Operations(target.container(), target.outputs)
    projections = operations.projections()
    out.line(f"{target.name}")
    for projection in projections:
        note = ""
        if projection.needs_rebuild:
            note = (
                f"  (code is version {projection.code_version}: "
                f"rebuild --projection {projection.projection})"
            )
        if projection.building:
            note += f"  building generation {projection.building.number}"
        out.line(
            f"  projection {projection.projection}: generation {projection.live.number}, "
            f"version {projection.live.version}{note}"
        )
    readers = [reader.status() for reader in operations.readers()]
    for state in readers:
        out.line(f"  reader {state.reader}:")
        for line in status_lines(state):
            out.line(f"    {line}")
    consumers = []
    for consumer in CONSUMERS:
        try:
            consumers.append(operations.consumer(consumer))
        except KeyError:  # a stack deployed before the queue existed
            continue
    for queue in consumers:
        parked = "?" if queue.parked is None else queue.parked
        out.line(
            f"  queue {queue.consumer}: {queue.waiting} waiting, {queue.in_flight} in flight, "
            f"{parked} parked, {queue.applied} done"
        )
        if error := queue.last_error:
            out.line(
                f"    last error {error.at}: {error.stream_id} v{error.version}: {error.error}"
            )
    out.put("target", target.name)
    out.put("projections", [p.as_dict() for p in projections])
    out.put("readers", [r.as_dict() for r in readers])
    out.put("queues", [q.as_dict() for q in consumers])
    return 0


def status_lines(state: ReaderStatus) -> list[str]:
    """One reader's status as CONTRACT.md section 5 names its columns."""
    applied = {s: n for s, n in state.position.items() if n}
    position = (
        ", ".join(f"{shard} at {number}" for shard, number in applied.items())
        or "nothing applied yet"
    )
    newest = state.newest_applied_event_age_seconds
    parked = (
        "? (the stack names no queue)" if state.parked_batches is None else state.parked_batches
    )
    error = state.last_error
    return [
        f"position: {position} ({len(applied)} of {state.shards} shards)",
        f"lag: {_seconds(state.lag_seconds)} (the oldest event not yet applied)",
        f"events behind: {state.events_behind}",
        "newest applied event: "
        + (
            "none yet"
            if newest is None
            else f"{newest:.0f} s old ({state.newest_applied_event_at})"
        ),
        f"parked failures: {parked}"
        + (f", {state.held_back} held back" if state.held_back else ""),
        "last error: "
        + (
            "none"
            if error is None
            else f"{error.at}: {error.stream_id} v{error.version}: {error.error}"
        ),
    ]


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if 0 < value < 10 else f"{value:.0f} s"


def failures(args: argparse.Namespace, target: Target, out: Out) -> int:
    from infra.readers import CONSUMERS, Operations

    operations = Operations(target.container(), target.outputs)
    found = [p for reader in operations.readers() for p in reader.parked()]
    calls = [
        p
        for consumer in CONSUMERS
        if consumer.dead_letter_output in target.outputs
        for p in operations.parked_calls(consumer)
    ]
    out.put("failures", [p.as_dict() for p in found])
    out.put("parked_calls", [p.as_dict() for p in calls])
    if not found and not calls:
        out.line("no parked batches: the on-failure and dead-letter queues are empty")
    for call in calls:
        out.line(f"{call.id}  {call.consumer}  {call.step}  sent {call.sent_at}")
        out.line(f"    {call.stream} v{call.version}: {call.error or 'no error recorded'}")
    for parked in found:
        out.line(f"{parked.id}  {parked.reader}  {parked.condition}  arrived {parked.arrived}")
        for stream, versions in sorted(parked.streams.items()):
            span = f"v{min(versions)}" + (f"-{max(versions)}" if len(versions) > 1 else "")
            out.line(f"    {stream} {span}: {parked.errors.get(stream, 'no error recorded')}")
        if parked.trimmed:
            out.line("    (records gone from the stream: streams from the reader's log)")
    return 0


REDRIVE_HOLD_SECONDS = 300
"""A redriven message stays invisible this long while its streams are re-applied."""


def redrive(args: argparse.Namespace, target: Target, out: Out) -> int:
    from infra.readers import CONSUMERS, Operations

    if not args.all and not args.ids:
        raise Refused("name the batches to redrive (IDs from `failures`), or --all")
    # each reader's code runs again with its own function's configuration
    operations = Operations(target.container(), target.outputs, functions=target.container)
    results = []
    failed = 0
    for reader in operations.readers():
        for parked in reader.parked(hold_seconds=REDRIVE_HOLD_SECONDS):
            if not args.all and parked.id not in args.ids:
                continue
            done, what = reader.redrive(parked)
            failed += not done
            results.append({"id": parked.id, "reader": reader.name, "done": done, "what": what})
            out.line(f"{parked.id}  {reader.name}: {'redriven' if done else 'kept'}: {what}")
    for consumer in CONSUMERS:
        if consumer.dead_letter_output not in target.outputs:
            continue
        operations = Operations(target.container(consumer.function), target.outputs)
        for call in operations.parked_calls(consumer, hold_seconds=REDRIVE_HOLD_SECONDS):
            if not args.all and call.id not in args.ids:
                continue
            done, what = operations.redrive_call(consumer, call)
            failed += not done
            results.append({"id": call.id, "reader": consumer.name, "done": done, "what": what})
            out.line(f"{call.id}  {consumer.name}: {'redriven' if done else 'kept'}: {what}")
    if args.all and not results:
        out.line("nothing to redrive: no batch is parked on either on-failure queue")
    missing = set(args.ids or []) - {r["id"] for r in results}
    for id_ in sorted(missing):
        out.line(f"{id_}: no such parked batch (see `failures`)")
    out.put("redriven", results)
    return 1 if failed or missing else 0


def partitions(args: argparse.Namespace, target: Target, out: Out) -> int:
    """The hottest partition keys of each table and index over the last minute, with their
    read and write units per second: counted by the local stack's embedded endpoint."""
    from infra.hot_keys import DEPLOYED, NoCounts, read_local

    if not args.local:
        raise Refused(f"partitions counts the local stack's keys: use --local; {DEPLOYED}")
    tables = {
        v: k.removesuffix("Name") for k, v in target.outputs.items() if k.endswith("TableName")
    }
    try:
        hot = read_local(
            target.env.get("AWS_ENDPOINT_URL", ""), tables, seconds=args.seconds, top=args.top
        )
    except NoCounts as missing:
        raise Refused(str(missing)) from missing
    out.put("target", target.name)
    out.put("window_seconds", hot.window_seconds)
    out.put("limits", {"read_units_per_second": 3000, "write_units_per_second": 1000})
    out.put(
        "partitions", [{**p.as_dict(), "table_id": tables.get(p.table)} for p in hot.partitions]
    )
    out.line(
        f"{target.name}: hottest partitions of the last {hot.window_seconds} s "
        "(units per second: average, busiest second; a partition takes 3,000 RCU/s, 1,000 WCU/s)"
    )
    if not hot.partitions:
        out.line("  no DynamoDB request in that time")
    for (table, index), found in hot.by_table().items():
        out.line(f"  {tables.get(table, table)}{f' index {index}' if index else ''}:")
        for p in found:
            out.line(
                f"    {p.key:<48} read {p.read_units_per_second:8.2f}/s "
                f"(peak {p.peak_read_units:g})  write {p.write_units_per_second:8.2f}/s "
                f"(peak {p.peak_write_units:g})"
                f"  {p.share_of_limit:6.1%} of the limit"
            )
    if hot.uncounted_requests:
        out.line(f"  ({hot.uncounted_requests} requests could not be counted)")
    return 0


def reapply_erasures(args: argparse.Namespace, target: Target, out: Out) -> int:
    """After a point-in-time restore: erase again everyone the erasure log says was erased
    since the restore point (the restored tables hold their keys and data again)."""
    from domain.access import Caller, Role
    from domain.errors import NotFound
    from domain.identity.commands import EraseUser

    since = _time(args.since)
    container = target.container()
    if container.personal_data.log is None:
        raise Refused(
            f"{target.name} has no erasure log (output ErasureLogTableName): deploy this "
            "checkout's template.yaml first"
        )
    erased = container.personal_data.erased_since(since)
    context = CommandContext(f"cli-{uuid.uuid4()}", "cli", Caller("operator", Role.ADMIN))
    missing = 0
    with out.progress("erasures", len(erased)) as tick:
        for subject, _ in erased:
            try:
                identity.erase(
                    container.repository,
                    container.hasher,
                    container.failed_logins,
                    container.pseudonyms,
                    container.personal_data.erase,
                    EraseUser(subject),
                    context,
                )
            except NotFound:  # no such user at the restore point: their key, if any, goes
                container.personal_data.erase(subject)
                missing += 1
            tick(1)
    out.put("reapplied", {"since": iso(since), "erasures": len(erased), "unknown": missing})
    out.line(
        f"{len(erased)} erasures logged since {iso(since)} applied again "
        f"({missing} of subjects the restored tables do not know: their keys destroyed)"
    )
    return 0


def seal_personal(args: argparse.Namespace, target: Target, out: Out) -> int:
    """Once, after upgrading to the release that seals personal data: seal what earlier
    releases stored in clear (infra/sealing.py)."""
    from infra.sealing import seal_stored

    container = target.container()
    with out.progress("items", _approximate_events(container)) as tick:
        done = seal_stored(container, tick)
    out.put("sealed", asdict(done))
    out.line(
        f"{done.items_read} items read: {done.events} events, {done.snapshots} snapshots and "
        f"{done.claims} email claims sealed (the rest were sealed already)"
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Target, Out], int]] = {
    "reapply-erasures": reapply_erasures,
    "seal-personal": seal_personal,
    "create-admin": create_admin,
    "status": status,
    "events": events,
    "rebuild": rebuild,
    "replay": replay,
    "failures": failures,
    "redrive": redrive,
    "partitions": partitions,
    "seed": lambda args, target, out: seed(args, target, out),  # defined below
}


def seed(args: argparse.Namespace, target: Target, out: Out) -> int:
    from infra import seed as demo

    if not target.api_url:
        raise Refused("seed fills the running local stack only: eventshop-admin --local seed")
    if args.products < 0:
        raise Refused("--products must be 0 or more")
    # an admin of the seed's own (the local admin's password is not ours to know)
    email, password = f"seed-{uuid.uuid4().hex[:8]}@demo.example.com", uuid.uuid4().hex
    context = CommandContext(f"cli-{uuid.uuid4()}", "cli")
    root = target.container()
    identity.ensure_admin(root.repository, root.hasher, root.pseudonyms, email, password, context)
    api = demo.Api(target.api_url)
    token = str(
        api.ok("POST", "/auth/token", {"email": email, "password": password})["access_token"]
    )
    with out.progress("seeding", demo.steps(args.products)) as advance:
        try:
            seeded = demo.seed(api, token, args.products, advance=advance)
        except demo.SeedFailed as failed:
            raise Refused(f"the stack refused the seed: {failed}") from failed
    summary = seeded.as_dict()
    out.put("seeded", summary)
    orders = ", ".join(f"{n} {kind}" for kind, n in summary["orders"].items())
    out.line(
        f"seeded {target.name} in {summary['seconds']} s: {summary['categories']} categories, "
        f"{summary['products']} products, {summary['customers']} customers, orders: {orders} "
        "(placed ones are confirmed by the order process, declined ones cancelled)"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    main_parser = argparse.ArgumentParser(
        prog="eventshop-admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    main_parser.add_argument("--stack", help="a deployed CloudFormation stack")
    main_parser.add_argument(
        "--local", action="store_true", help="the running local stack of this checkout"
    )
    commands = main_parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", parents=[common], help="create or promote an admin")
    admin.add_argument("--email", default=os.environ.get("ADMIN_EMAIL"))
    commands.add_parser("status", parents=[common], help="generations, readers, lag, failures")
    stream = commands.add_parser("events", parents=[common], help="a stream's events")
    stream.add_argument("stream", help="a stream id, like product-<id>")
    stream.add_argument("--from", dest="from_version", type=int, help="first version")
    stream.add_argument("--to", dest="to_version", type=int, help="last version")
    rebuilt = commands.add_parser(
        "rebuild", parents=[common], help="rebuild projections blue/green"
    )
    rebuilt.add_argument("--projection", help="one projection (default: every one)")
    rebuilt.add_argument(
        "--changed",
        action="store_true",
        help="only the projections whose code version differs from their live generation's",
    )
    rebuilt.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    rebuilt.add_argument(
        "--drop-after",
        type=float,
        default=RETIRE_DELAY_SECONDS,
        metavar="SECONDS",
        help="keep the old generation this long after the switch (query functions read "
        f"the pointer at most {READER_CACHE_SECONDS:.0f} s old; default %(default).0f)",
    )
    rebuilt.add_argument(
        "--fence",
        type=float,
        default=FENCE_SECONDS,
        metavar="SECONDS",
        help="wait this long after each change of the active generations before building "
        "or dropping (projectors keep what they read for a lease, plus their longest batch; "
        "default %(default).0f; 0 only when no projector runs meanwhile). With --local, "
        "the wait ends sooner: once the lease has passed and no projector batch begun "
        "before its end is in flight",
    )
    replayed = commands.add_parser(
        "replay", parents=[common], help="re-apply the events recorded since a time"
    )
    replayed.add_argument("--since", required=True, help="ISO 8601 time, or an age like 2h")
    replayed.add_argument("--projection", help="one projection (default: every one)")
    reapplied = commands.add_parser(
        "reapply-erasures",
        parents=[common],
        help="after a point-in-time restore: erase again who was erased since (the log)",
    )
    reapplied.add_argument("--since", required=True, help="the restore point: ISO 8601, or 2h")
    commands.add_parser(
        "seal-personal",
        parents=[common],
        help="once after upgrading: seal the personal data older releases stored in clear",
    )
    commands.add_parser("failures", parents=[common], help="the parked batches, decoded")
    redriven = commands.add_parser(
        "redrive", parents=[common], help="re-apply parked batches from the event table"
    )
    redriven.add_argument("ids", nargs="*", help="batch ids from `failures`")
    redriven.add_argument("--all", action="store_true", help="every parked batch")
    hot = commands.add_parser(
        "partitions",
        parents=[common],
        help="the hottest partition keys of the last minute, units per second (--local)",
    )
    hot.add_argument("--seconds", type=int, default=60, help="the window (at most 60)")
    hot.add_argument("--top", type=int, default=5, help="partitions per table and index")
    seeded = commands.add_parser(
        "seed", parents=[common], help="fill the local stack with a demo shop (--local)"
    )
    seeded.add_argument("--products", type=int, default=100, help="how many (default 100)")
    seeded.add_argument(  # `seed --local` reads as well as `--local seed`
        "--local", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Out(bool(getattr(args, "json", False)))
    target: Target | None = None
    try:
        target = target_of(args)
        code = COMMANDS[args.command](args, target, out)
    except Refused as refused:
        print(f"eventshop-admin: {refused}", file=sys.stderr)
        return 2
    except DomainError as refused:
        print(f"refused: {refused.message}", file=sys.stderr)
        return 1
    except MissingSetting as missing:
        where = target.name if target is not None else "the environment"
        print(f"eventshop-admin: {where} does not say: {missing}", file=sys.stderr)
        print(f"  {WHICH_STACK}", file=sys.stderr)
        return 2
    except BotoCoreError as aws:
        print(f"eventshop-admin: {aws}", file=sys.stderr)
        print(f"  {WHICH_STACK}", file=sys.stderr)
        return 2
    except ClientError as aws:
        error = aws.response.get("Error", {})
        print(
            f"eventshop-admin: AWS refused: {error.get('Code')}: {error.get('Message')}",
            file=sys.stderr,
        )
        print(f"  {WHICH_STACK}", file=sys.stderr)
        return 2
    out.finish()
    return code


WHICH_STACK = (
    "Name the stack: --local (the running `make run` of this checkout), or --stack NAME with "
    "a region (AWS_REGION) and credentials for its account."
)


if __name__ == "__main__":
    raise SystemExit(main())
