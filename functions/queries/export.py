"""The right of access: `GET /users/me/export`, everything held about the caller.

A function of its own: opening a customer's events takes their streams and their data key
(through KMS), which no reader of views is given."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from domain.access import require_caller
from domain.privacy import export
from functions.models import Export
from functions.shared.http import Routes, Services, caller_of, http_function, json_response, route
from functions.shared.openapi import responses

router = Routes()


@route(
    router,
    "GET",
    "/users/me/export",
    signed_in=True,
    summary="Everything held about you as JSON: profile, orders, reviews, emails sent",
    tags=["identity"],
    responses=responses(200, Export, 401, 404),
)
def export_me(services: Services) -> Response[Export]:
    caller = require_caller(caller_of(router))
    return json_response(export(caller.user_id, services.repository, services.live))


app, handler = http_function(router)
