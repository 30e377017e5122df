"""Read-your-writes on eventually consistent views: `?min_version=N` waits, bounded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from domain.errors import NotFound
from functions.shared.errors import ViewBehind

WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05

Doc = dict[str, Any]


def read_view(read: Callable[[], Doc], min_version: int | None) -> Doc:
    """`read()`, again until its `version` is at least `min_version` (about 3 s at most)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            doc: Doc | None = read()
        except NotFound:
            if min_version is None:
                raise
            doc = None
        if min_version is None or (doc is not None and doc["version"] >= min_version):
            assert doc is not None
            return doc
        if time.monotonic() >= deadline:
            raise ViewBehind(
                f"This view has not caught up with version {min_version} yet: retry shortly."
            )
        time.sleep(POLL_SECONDS)


def view_response(doc: Doc) -> Response[Any]:
    """One aggregate's view, with its version as the ETag."""
    return json_response(doc, headers={"ETag": f'"{doc["version"]}"'})


def json_response(body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    """200 with `body`, which Powertools validates against the route's answer model (its
    `-> Response[Model]`) and serializes: what the document says is what is sent."""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers or {},
    )
