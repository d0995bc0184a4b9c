"""Connecting a Zoom account: OAuth 2.0 authorization code with PKCE (S256).

Two ways in:
- From the browser (`/zoom/install`, from the profile page, signed in): redirect to Zoom's
  `/oauth/authorize`, back to `/zoom/oauth/callback`; `state` must equal the one in the signed
  `zoom_oauth` cookie, whose PKCE verifier goes to Zoom's token endpoint. A Marketplace "Add"
  arrives at the callback without our state and is sent through `/zoom/install` first.
- Inside Zoom (in-client OAuth): `POST /zoom/oauth/in-client/start` gives the panel a code
  challenge and state for `zoomSdk.authorize()`; the code from the `onAuthorized` event comes back
  to `POST /zoom/oauth/in-client/finish` with the one-time link code from the person's profile.

Either way `/v2/users/me` names the Zoom user, the tokens are sealed and stored, and the person
is linked to that Zoom user.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints
from yarl import URL

from sidecar.api.auth import identify
from sidecar.api.errors import ApiError, InputRejected
from sidecar.api.routing import parse_json_body
from sidecar.domain.errors import NotFound
from sidecar.web.pages import render
from zoom_app import client
from zoom_app.client import ZoomError
from zoom_app.crypto import pkce_pair
from zoom_app.state import ZoomState
from zoom_app.web import (
    CONTEXT_COOKIE,
    OAUTH_COOKIE,
    OAUTH_COOKIE_SECONDS,
    read_signed_cookie,
    redirect_uri,
    require_configured,
    set_signed_cookie,
    start_session,
    zoom,
)
from zoom_app.web import problem as problem_page

log = logging.getLogger(__name__)


def _begin(flow: str, person: str | None) -> tuple[str, str, dict[str, str | None]]:
    """A new state and PKCE pair: (state, code challenge, what the signed cookie remembers)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    return state, challenge, {"state": state, "verifier": verifier, "flow": flow, "person": person}


def _remember(
    request: web.Request, response: web.StreamResponse, started: dict[str, str | None]
) -> None:
    set_signed_cookie(
        response,
        request,
        OAUTH_COOKIE,
        dict(started),
        seconds=OAUTH_COOKIE_SECONDS,
        in_zoom=started["flow"] == "in-client",
    )


def _check_state(request: web.Request, state: str, flow: str) -> dict[str, str]:
    started = read_signed_cookie(request, OAUTH_COOKIE)
    if started is None or started.get("flow") != flow:
        raise ApiError(400, "state: no Zoom sign-in was started here, or it took too long")
    if not hmac.compare_digest(str(started.get("state", "")).encode(), state.encode()):
        raise ApiError(400, "state: does not match the Zoom sign-in started here")
    return {k: str(v) for k, v in started.items() if v is not None}


# The tokens of the exchange in this request, until the account they belong to is known.
_TOKENS: web.RequestKey[client.Tokens] = web.RequestKey("zoom_tokens")


async def _connect(
    request: web.Request, state: ZoomState, code: str, verifier: str
) -> client.ZoomUser:
    """Exchange the code, ask Zoom who this is; returns the user and remembers the tokens."""
    tokens = await client.exchange_code(state, code, verifier, redirect_uri(request))
    user = await client.user_me(state, tokens.access_token)
    request[_TOKENS] = tokens
    return user


async def _link(
    request: web.Request, state: ZoomState, person_id: str, user: client.ZoomUser
) -> None:
    tokens = request[_TOKENS]
    await state.store.link_account(
        person_id,
        zoom_user_id=user.id,
        zoom_email=user.email,
        tokens=client.seal(state, person_id, tokens),
        token_expires_at=tokens.expires_at,
        scope=tokens.scope,
    )
    log.info("person %s linked to a Zoom user", person_id)


# --- from the browser -------------------------------------------------------------------------


async def install(request: web.Request) -> web.StreamResponse:
    state = zoom(request)
    if not state.configured:
        return problem_page(request, 404, "Zoom is not set up on this Mentor Sidecar server")
    identity = await identify(request)
    if identity is None:
        return render(request, "signed-out", title="Sign in to connect Zoom", status=401)
    oauth_state, challenge, started = _begin("web", identity.person_id)
    settings = state.settings
    authorize = URL(settings.zoom_oauth_base_url.rstrip("/") + "/oauth/authorize").with_query(
        response_type="code",
        client_id=settings.zoom_client_id,
        redirect_uri=redirect_uri(request),
        state=oauth_state,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    response = web.HTTPFound(str(authorize))
    _remember(request, response, started)
    raise response


async def callback(request: web.Request) -> web.StreamResponse:
    state = zoom(request)
    if not state.configured:
        return problem_page(request, 404, "Zoom is not set up on this Mentor Sidecar server")
    code, oauth_state = request.query.get("code", ""), request.query.get("state", "")
    if "error" in request.query:
        return problem_page(request, 400, "Zoom was not connected: access was not allowed")
    if not code:
        return problem_page(request, 400, "Zoom was not connected: Zoom sent no code")
    if not oauth_state:
        # An install from the Zoom Marketplace: go through our own PKCE flow, signed in.
        raise web.HTTPFound("/zoom/install")
    try:
        started = _check_state(request, oauth_state, "web")
    except ApiError:
        return problem_page(
            request, 400, "Zoom was not connected: this sign-in was not started here, or expired"
        )
    identity = await identify(request)
    if identity is None or identity.person_id != started.get("person"):
        return render(request, "signed-out", title="Sign in to connect Zoom", status=401)
    try:
        user = await _connect(request, state, code, started["verifier"])
    except ZoomError as exc:
        log.warning("Zoom OAuth failed: %s", exc)
        return problem_page(request, 502, f"Zoom was not connected: {exc.message}")
    await _link(request, state, identity.person_id, user)
    response = web.HTTPSeeOther("/me?zoom=connected")
    response.del_cookie(OAUTH_COOKIE, path="/")
    raise response


# --- inside Zoom ------------------------------------------------------------------------------

LinkCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]


class InClientFinish(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Text
    state: Text
    link_code: LinkCode | None = None


async def in_client_start(request: web.Request) -> web.Response:
    require_configured(request)
    oauth_state, challenge, started = _begin("in-client", None)
    response = web.json_response({"codeChallenge": challenge, "state": oauth_state})
    _remember(request, response, started)
    return response


async def in_client_finish(request: web.Request) -> web.Response:
    state = require_configured(request)
    body = await parse_json_body(InClientFinish, request)
    started = _check_state(request, body.state, "in-client")
    try:
        user = await _connect(request, state, body.code, started["verifier"])
    except ZoomError as exc:
        raise ApiError(502, f"{exc.field}: {exc.message}") from exc
    context = read_signed_cookie(request, CONTEXT_COOKIE)
    if context is not None and context.get("uid") != user.id:
        raise ApiError(409, "code: the Zoom account that allowed access is not the one in Zoom")
    person_id = await state.store.person_for_zoom_user(user.id)
    if person_id is None:
        if not body.link_code:
            raise InputRejected(
                [{"loc": "link_code", "msg": "enter the code shown on your Mentor Sidecar profile"}]
            )
        try:
            person_id = await state.store.redeem_link_code(body.link_code)
        except NotFound:
            raise InputRejected(
                [{"loc": "link_code", "msg": "unknown, used or expired; make a new one"}]
            ) from None
    await _link(request, state, person_id, user)
    response = web.json_response({"linked": True, "next": "/zoom/home"})
    await start_session(request, response, person_id, in_zoom=True)
    response.del_cookie(OAUTH_COOKIE, path="/")
    return response
