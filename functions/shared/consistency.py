"""Read-your-writes on eventually consistent views: `?min_version=N` waits, bounded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from domain.errors import Detail, InvalidValue, NotFound
from functions.shared.errors import ViewBehind

WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05

Doc = dict[str, Any]

MinVersion = Annotated[
    int | None,
    Query(
        ge=1,
        description="Wait (about 3 s at most) until the view is this recent. 503 (with "
        "Retry-After) if it has not caught up with that version yet; 400 (min_version_ahead, "
        "the message names the latest version) if the stream has no such version.",
    ),
]


def read_view(
    read: Callable[[], Doc],
    min_version: int | None,
    *,
    head: Callable[[], int],
    admit: Callable[[Doc], object] | None = None,
) -> Doc:
    """`read()`, again until its `version` is at least `min_version` (about 3 s at most).

    Past the wait, `head()` (the stream's newest version, one small read of the event table)
    tells a view that is behind (503, retry) from a version that does not exist (400 naming
    the latest: retrying cannot help). `admit(doc)` may refuse first (another's order is a
    404), so a 400 tells nothing the caller may not see."""
    deadline = time.monotonic() + WAIT_SECONDS
    missing: NotFound | None = None
    while True:
        try:
            doc: Doc | None = read()
        except NotFound as error:
            if min_version is None:
                raise
            doc, missing = None, error
        if min_version is None or (doc is not None and doc["version"] >= min_version):
            assert doc is not None
            return doc
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    latest = head()
    if latest == 0 and missing is not None:
        raise missing
    if latest < min_version and doc is not None:
        if admit is not None:
            admit(doc)
        raise InvalidValue(
            f"There is no version {min_version} yet: the latest is {latest}. "
            f"Ask for min_version={latest} or less.",
            code="min_version_ahead",
            details=[Detail("min_version", f"the latest version is {latest}")],
        )
    raise ViewBehind(f"This view has not caught up with version {min_version} yet: retry shortly.")


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
