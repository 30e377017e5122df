"""The event console (`/console`, the local stack's): streams and their events with
metadata, each projection's generations, each stream reader's position and lag, and the
parked batches. Plain HTML rendered here: no script, no stylesheet from elsewhere, so it
works offline. Read only; it shows everything, so the template serves it only where the
`EventConsole` parameter says so (the local stack)."""

from __future__ import annotations

import html
import json
import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from functions.shared.errors import error_response
from functions.shared.http import Root, Services
from functions.shared.observability import entry_point

app = APIGatewayHttpResolver()
STREAMS_PER_PAGE = 50
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code, pre { font: 12px/1.3 ui-monospace, monospace; }
pre { margin: 0; white-space: pre-wrap; } .bad { color: #a00; } .ok { color: #070; }
nav a { margin-right: 1rem; }
"""


def _operations(root: Root) -> Any:
    from infra.readers import Operations

    outputs = {
        "EventsStreamArn": os.environ.get("EVENTS_STREAM_ARN", ""),
        "ProjectorFailureQueueUrl": os.environ.get("PROJECTOR_FAILURE_QUEUE_URL", ""),
        "OrderProcessFailureQueueUrl": os.environ.get("ORDER_PROCESS_FAILURE_QUEUE_URL", ""),
        "OutsideCallsQueueUrl": os.environ.get("OUTSIDE_CALLS_QUEUE_URL", ""),
        "OutsideCallsDeadLetterQueueUrl": os.environ.get("OUTSIDE_CALLS_DEAD_LETTER_QUEUE_URL", ""),
    }
    return Operations(root, {k: v for k, v in outputs.items() if v})


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    document = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · eventshop console</title><style>{STYLE}</style></head>"
        f"<body><nav><a href='/console'>Overview</a><a href='/console/streams'>Streams</a>"
        f"<a href='/console/partitions'>Hot partitions</a>"
        f"</nav><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(status, content_types.TEXT_HTML, document)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    if not rows:
        return f"<table><tr>{head}</tr><tr><td colspan='{len(headers)}'>none</td></tr></table>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _time(moment: datetime) -> str:
    """Every time the console shows, in one form: 2026-12-06 05:30:12 UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _stream_link(stream: str) -> str:
    return f"<a href='/console/streams/{quote(stream, safe='')}'>{_text(stream)}</a>"


@app.get("/console")
def overview(services: Services) -> Response[str]:
    from infra.readers import CONSUMERS

    operations = _operations(services)
    projections = [
        [
            _text(p.projection),
            _text(f"generation {p.live.number} (version {p.live.version})"),
            _text(f"generation {p.building.number}" if p.building else "—"),
            _text(p.code_version)
            + (" <span class='bad'>rebuild needed</span>" if p.needs_rebuild else ""),
        ]
        for p in operations.projections()
    ]
    readers, parked_rows = [], []
    for reader in operations.readers():
        state = reader.status()
        newest, last = state.newest_applied_event_age_seconds, state.last_error
        parked = state.parked_batches or 0
        applied = {s: n for s, n in state.position.items() if n}
        readers.append(
            [
                _text(reader.name),
                _text("; ".join(f"{s}: {n}" for s, n in applied.items()) or "—"),
                _text(f"{state.lag_seconds:.0f} s"),
                _text(state.events_behind),
                _text("none yet" if newest is None else f"{newest:.0f} s"),
                f"<span class='{'bad' if parked else 'ok'}'>{parked}</span>"
                + (f" ({_text(state.held_back)} held back)" if state.held_back else ""),
                _text(f"{last.stream_id} v{last.version}: {last.error}" if last else "—"),
            ]
        )
        for batch in reader.parked() if parked else []:
            streams = ", ".join(
                f"{_stream_link(s)} v{min(v)}-{max(v)}: {_text(batch.errors.get(s, ''))}"
                for s, v in sorted(batch.streams.items())
            )
            parked_rows.append(
                [_text(batch.id), _text(reader.name), _text(batch.condition), streams]
            )
    body = (
        "<h2>Projections</h2>"
        + _table(["projection", "live", "building", "code version"], projections)
        + "<h2>Stream readers</h2>"
        + _table(
            [
                "reader",
                "position (per shard)",
                "lag",
                "events behind",
                "age of the newest applied event",
                "parked failures",
                "last error",
            ],
            readers,
        )
        + "<h2>Parked batches</h2>"
        + _table(["id", "reader", "why", "streams"], parked_rows)
        + _queues(operations, CONSUMERS)
    )
    return _page("Event console", body)


def _queues(operations: Any, consumers: Any) -> str:
    """The queues' consumers (the outside calls): waiting, in flight, parked and why."""
    rows, parked_rows = [], []
    for consumer in consumers:
        try:
            state = operations.consumer(consumer)
        except KeyError:  # the stack names no such queue
            continue
        last = state.last_error
        parked = state.parked or 0
        rows.append(
            [
                _text(consumer.name),
                _text(state.waiting),
                _text(state.in_flight),
                f"<span class='{'bad' if parked else 'ok'}'>{parked}</span>",
                _text(state.applied),
                _text(f"{last.stream_id} v{last.version}: {last.error}" if last else "—"),
            ]
        )
        for call in operations.parked_calls(consumer) if parked else []:
            parked_rows.append(
                [
                    _text(call.id),
                    _text(consumer.name),
                    _text(call.step),
                    f"{_stream_link(call.stream)} v{_text(call.version)}: {_text(call.error)}",
                ]
            )
    return (
        "<h2>Queues</h2>"
        + _table(
            ["queue", "waiting", "in flight", "parked", "done", "last error"],
            rows,
        )
        + "<h2>Parked calls</h2>"
        + _table(["id", "queue", "step", "stream"], parked_rows)
    )


@app.get("/console/streams")
def streams(services: Services) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    after = query.get("after")
    events = services.event_store
    listed: list[str] = []
    token = None
    for page, token in events.stream_pages(after=after):
        listed += page
        if len(listed) >= STREAMS_PER_PAGE or token is None:
            break
    rows = [[_stream_link(s)] for s in sorted(listed)]
    more = (
        f"<p><a href='/console/streams?after={quote(token)}'>more streams</a></p>" if token else ""
    )
    return _page("Streams", _table(["stream"], rows) + more)


@app.get("/console/streams/<stream_id>")
def stream(stream_id: str, services: Services) -> Response[str]:
    found = services.event_store.read(stream_id)
    if not found:
        body = (
            f"<p>No stream {_text(stream_id)} has an event: see "
            "<a href='/console/streams'>the streams</a>.</p>"
        )
        return _page("No such stream", body, status=404)
    rows = [
        [
            _text(e.version),
            _text(e.type),
            _text(_time(e.occurred_at)),
            f"<pre>{_text(json.dumps(dict(e.data), indent=1, sort_keys=True))}</pre>",
            f"<pre>event {_text(e.metadata.event_id)}\ncorrelation "
            f"{_text(e.metadata.correlation_id)}\ncausation {_text(e.metadata.causation_id)}\n"
            f"user {_text(e.metadata.user_id or '-')}</pre>",
        ]
        for e in found
    ]
    return _page(
        f"Stream {stream_id}",
        _table(["version", "type", "occurred at", "data", "metadata"], rows),
    )


TABLE_SETTINGS = ("EVENTS_TABLE", "VIEWS_TABLE", "IDEMPOTENCY_TABLE", "THROTTLE_TABLE")


@app.get("/console/partitions")
def partitions() -> Response[str]:
    """The hottest partition keys of the last minute of each table and index, as the local
    stack's embedded endpoint counted them (`eventshop-admin partitions --local`)."""
    from infra.hot_keys import DEPLOYED, NoCounts, read_local

    tables = {os.environ[k]: k for k in TABLE_SETTINGS if os.environ.get(k)}
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return _page("Hot partitions", f"<p>{_text(DEPLOYED[0].upper() + DEPLOYED[1:])}.</p>")
    try:
        hot = read_local(endpoint, tables, top=10)
    except NoCounts as missing:
        return _page("Hot partitions", f"<p class='bad'>{_text(missing)}</p>", status=503)
    sections = []
    for (table, index), found in hot.by_table().items():
        rows = [
            [
                _text(p.key),
                _text(f"{p.read_units_per_second:.2f}"),
                _text(f"{p.peak_read_units:g}"),
                _text(f"{p.write_units_per_second:.2f}"),
                _text(f"{p.peak_write_units:g}"),
                f"<span class='{'bad' if p.share_of_limit >= 0.5 else 'ok'}'>"
                f"{p.share_of_limit:.1%}</span>",
            ]
            for p in found
        ]
        title = f"{tables.get(table, table)} ({table})" + (f", index {index}" if index else "")
        sections.append(
            f"<h2>{_text(title)}</h2>"
            + _table(
                [
                    "partition key",
                    "read units/s",
                    "busiest second",
                    "write units/s",
                    "busiest second",
                    "of the partition's limit",
                ],
                rows,
            )
        )
    intro = (
        f"<p>The last {hot.window_seconds} s of every function's DynamoDB requests: units from "
        "the sizes of the items read and written (1 KB a write unit, 4 KB a read unit, "
        "transactions twice, eventually consistent reads half). One partition takes 3,000 "
        "read and 1,000 write units a second.</p>"
    )
    body = intro + ("".join(sections) or "<p>No DynamoDB request in that time.</p>")
    return _page("Hot partitions", body)


READ_ONLY = ["POST", "PUT", "PATCH", "DELETE"]


@app.route("/console", method=READ_ONLY)
@app.route("/console/streams", method=READ_ONLY)
@app.route("/console/streams/<stream_id>", method=READ_ONLY)
def not_allowed(stream_id: str = "") -> Response[str]:
    """The console only reads: any other method is a 405, in the API's error shape."""
    method = app.current_event.request_context.http.method
    return error_response(
        405,
        "method_not_allowed",
        f"{method} is not allowed here: the console is read only (use GET).",
        headers={"Allow": "GET"},
    )


def serve(event: dict[str, Any], context: Any, root: Root) -> dict[str, Any]:
    app.context["root"] = root
    return app.resolve(event, context)


handler = entry_point(serve)
