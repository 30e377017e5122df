"""Identity views: the caller's own profile."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from domain.identity.views import profile
from domain.shared.errors import Unauthenticated
from functions.models import Profile
from functions.shared.auth import SIGN_IN_FIRST, authenticate_first, caller_of, route
from functions.shared.bodies import readable_bodies
from functions.shared.consistency import read_view, view_response
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point
from functions.shared.openapi import responses

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

MinVersion = Annotated[
    int | None, Query(ge=1, description="Wait (about 3 s at most) until the view is this recent")
]


@route(
    router,
    "GET",
    "/users/me",
    signed_in=True,
    summary="Your profile",
    tags=["identity"],
    responses=responses(200, Profile, 401, 404, 503),
)
def me(min_version: MinVersion = None) -> Response[Profile]:
    from infra.container import container

    caller = caller_of(router)
    if caller is None:
        raise Unauthenticated(SIGN_IN_FIRST)
    views = container().live("users")
    return view_response(read_view(lambda: profile(views, caller.user_id), min_version))


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
