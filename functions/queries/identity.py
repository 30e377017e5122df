"""Identity views: the caller's own profile; the page a password-reset link opens."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from domain.errors import Unauthenticated
from domain.identity.credentials import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from domain.identity.user import RESET_LINK_LIFETIME, User
from domain.identity.views import profile, with_last_sign_in
from functions.models import Profile
from functions.shared.http import (
    SIGN_IN_FIRST,
    MinVersion,
    Routes,
    Services,
    caller_of,
    http_function,
    read_view,
    route,
    view_response,
)
from functions.shared.openapi import responses

router = Routes()


@route(
    router,
    "GET",
    "/users/me",
    signed_in=True,
    summary="Your profile",
    tags=["identity"],
    responses=responses(200, Profile, 401, 404, 503, etag=True),
)
def me(services: Services, min_version: MinVersion = None) -> Response[Profile]:
    caller = caller_of(router)
    if caller is None:
        raise Unauthenticated(SIGN_IN_FIRST)
    views = services.live("users")
    doc = read_view(
        lambda: profile(views, caller.user_id),
        min_version,
        head=lambda: services.repository.head(User, caller.user_id),
    )
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
<form id="reset"><label>New password (at least {MIN} characters)<br>
<input id="password" type="password" autocomplete="new-password"
 minlength="{MIN}" maxlength="{MAX}" required>
</label><br><button type="submit">Set the new password</button></form>
<p id="said" role="status"></p>
<script>
// Each answer of the API, said to a person: no code, no field name.
const SAID = {
  done: "Your password is changed. You can sign in with it now.",
  noToken: "This link is incomplete. Open the link in the email again, or ask for a new "
    + "password-reset email.",
  expired: "This link has expired or has already been used. Ask for a new password-reset "
    + "email: each link works once, for {LIFETIME} minutes.",
  tooShort: "Choose a password of at least {MIN} characters (and at most {MAX}).",
  damaged: "This link is damaged. Open the link in the email again, or ask for a new one.",
  busy: "Too many attempts. Wait a few minutes, then try again.",
  failed: "Your password could not be changed just now. Try again in a minute.",
};
const token = new URLSearchParams(location.search).get("token") || "";
const said = document.getElementById("said");
const form = document.getElementById("reset");
function done(sentence) { form.hidden = true; said.textContent = sentence; }
if (!token) done(SAID.noToken);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const new_password = document.getElementById("password").value;
  if (new_password.length < {MIN} || new_password.length > {MAX}) {
    said.textContent = SAID.tooShort; return;
  }
  let answer;
  try {
    // beside this page, wherever the API is mounted (a custom domain's base path included)
    answer = await fetch(new URL("auth/password-reset/confirm", location.href), {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token, new_password})});
  } catch (offline) { said.textContent = SAID.failed; return; }
  if (answer.ok) { done(SAID.done); return; }
  const body = await answer.json().catch(() => ({}));
  const fields = ((body.error || {}).details || []).map((d) => d.field);
  if (answer.status === 422) done(SAID.expired);
  else if (answer.status === 400 && fields.includes("new_password")) {
    said.textContent = SAID.tooShort;
  }
  else if (answer.status === 400) done(SAID.damaged);
  else if (answer.status === 429) said.textContent = SAID.busy;
  else said.textContent = SAID.failed;
});
</script></body></html>
"""
RESET_PAGE = (
    RESET_PAGE.replace("{MIN}", str(MIN_PASSWORD_LENGTH))
    .replace("{MAX}", str(MAX_PASSWORD_LENGTH))
    .replace("{LIFETIME}", str(int(RESET_LINK_LIFETIME.total_seconds() // 60)))
)
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
