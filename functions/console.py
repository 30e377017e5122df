"""The event console (`/console`, the local stack's): streams and their events with
metadata, each projection's generations, each stream reader's position and lag, and the
parked batches. Plain HTML rendered here: no script, no stylesheet from elsewhere, so it
works offline. Read only; it shows everything, so the template serves it only where the
`EventConsole` parameter says so (the local stack)."""

from __future__ import annotations

import html
import json
import os
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

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
    }
    return Operations(root, {k: v for k, v in outputs.items() if v})


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    document = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · eventshop console</title><style>{STYLE}</style></head>"
        f"<body><nav><a href='/console'>Overview</a><a href='/console/streams'>Streams</a>"
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


def _stream_link(stream: str) -> str:
    return f"<a href='/console/streams/{quote(stream, safe='')}'>{_text(stream)}</a>"


@app.get("/console")
def overview(services: Services) -> Response[str]:
    from infra.readers import READERS

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
    for reader in READERS:
        state = operations.reader(reader)
        age, last = state.lag_seconds, state.last_error
        parked = state.parked_batches or 0
        readers.append(
            [
                _text(reader.name),
                _text(state.position or "—"),
                _text("never ran" if age is None else f"{age:.0f} s"),
                _text(f"{state.events_behind}{'+' if state.events_behind_at_least else ''}"),
                _text(state.held_back),
                f"<span class='{'bad' if parked else 'ok'}'>{parked}</span>",
                _text(f"{last.stream_id} v{last.version}: {last.error}" if last else "—"),
            ]
        )
        for batch in operations.parked(reader) if parked else []:
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
                "position",
                "age of the newest event applied",
                "events behind",
                "held back",
                "parked batches",
                "last error",
            ],
            readers,
        )
        + "<h2>Parked batches</h2>"
        + _table(["id", "reader", "why", "streams"], parked_rows)
    )
    return _page("Event console", body)


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
            _text(e.occurred_at.isoformat()),
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


def serve(event: dict[str, Any], context: Any, root: Root) -> dict[str, Any]:
    app.context["root"] = root
    return app.resolve(event, context)


handler = entry_point(serve)
