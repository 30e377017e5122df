"""Identity views: the caller's own profile; the page a password-reset link opens."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from domain.errors import Unauthenticated
from domain.identity.user import User
from domain.identity.views import profile, with_last_sign_in
from functions.models import Profile
from functions.shared.auth import SIGN_IN_FIRST, caller_of, route
from functions.shared.consistency import read_view, view_response
from functions.shared.http import Routes, Services, http_function
from functions.shared.openapi import responses

router = Routes()

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
def me(services: Services, min_version: MinVersion = None) -> Response[Profile]:
    caller = caller_of(router)
    if caller is None:
        raise Unauthenticated(SIGN_IN_FIRST)
    views = services.live("users")
    doc = read_view(lambda: profile(views, caller.user_id), min_version)
    # The last sign-in is a note beside the user's stream (a sign-in is no event): one
    # small read of the event table.
    notes = services.repository.notes(User, caller.user_id)
    return view_response(with_last_sign_in(doc, notes))


# The page reads the token from its own address in the browser and posts it: the token is
# never written into the page, and no referrer carries the address away.
RESET_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reset your password</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28em;margin:3em auto;padding:0 1em}
input,button{font:inherit;padding:.4em;margin:.3em 0}#said{min-height:1.5em}</style></head>
<body><h1>Reset your password</h1>
<form id="reset"><label>New password (at least 8 characters)<br>
<input id="password" type="password" autocomplete="new-password" minlength="8" required>
</label><br><button type="submit">Set the new password</button></form>
<p id="said" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get("token") || "";
const said = document.getElementById("said");
document.getElementById("reset").addEventListener("submit", async (event) => {
  event.preventDefault();
  const new_password = document.getElementById("password").value;
  // beside this page, wherever the API is mounted (a custom domain's base path included)
  const answer = await fetch(new URL("auth/password-reset/confirm", location.href), {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token, new_password})});
  const body = await answer.json();
  said.textContent = answer.ok ? "Your password is changed: sign in with it."
                               : body.error.message;
});
</script></body></html>
"""
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
}


@route(
    router,
    "GET",
    "/reset-password",
    signed_in=False,
    summary="The page an emailed reset link opens (it posts to /auth/password-reset/confirm)",
    tags=["identity"],
    responses={
        200: {
            "description": "An HTML page to choose a new password",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
)
def reset_page(
    token: Annotated[
        str | None, Query(max_length=512, description="The token of the emailed link")
    ] = None,
) -> Response[str]:
    return Response(200, "text/html; charset=utf-8", RESET_PAGE, headers=_PAGE_HEADERS)


app, handler = http_function(router)
