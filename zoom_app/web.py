"""Shared bits of the Zoom routes: the state, cookies that work inside Zoom's webview, pages."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from aiohttp import web

from sidecar.api.auth import SESSION_COOKIE, identify, is_secure, public_origin
from sidecar.api.errors import ApiError
from sidecar.keys import REPOS, SETTINGS
from sidecar.web.devices import describe_device
from sidecar.web.pages import render
from zoom_app.state import ZOOM, ZoomState

OAUTH_COOKIE = "zoom_oauth"  # signed: state, PKCE verifier, who started, which flow
CONTEXT_COOKIE = "zoom_ctx"  # signed: the Zoom user and meeting of the decrypted app context
OAUTH_COOKIE_SECONDS = 10 * 60
CALLBACK_PATH = "/zoom/oauth/callback"


def zoom(request: web.Request) -> ZoomState:
    return request.app[ZOOM]


def require_configured(request: web.Request) -> ZoomState:
    state = zoom(request)
    if not state.configured:
        raise ApiError(
            404,
            "zoom: Zoom is not configured on this server "
            "(MENTOR_SIDECAR_ZOOM_CLIENT_ID and MENTOR_SIDECAR_ZOOM_CLIENT_SECRET)",
        )
    return state


def redirect_uri(request: web.Request) -> str:
    return public_origin(request) + CALLBACK_PATH


def cookie_options(request: web.Request, *, in_zoom: bool) -> dict[str, Any]:
    """HttpOnly always; `SameSite=None; Secure` only for cookies Zoom's webview must send and
    only over HTTPS (a browser drops SameSite=None without Secure); Lax everywhere else."""
    secure = is_secure(request)
    return {
        "httponly": True,
        "secure": secure,
        "samesite": "None" if (in_zoom and secure) else "Lax",
        "path": "/",
    }


def set_signed_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    data: dict[str, Any],
    *,
    seconds: int,
    in_zoom: bool,
) -> None:
    value = zoom(request).signer.sign({**data, "exp": int(time.time()) + seconds})
    response.set_cookie(name, value, max_age=seconds, **cookie_options(request, in_zoom=in_zoom))


def read_signed_cookie(request: web.Request, name: str) -> dict[str, Any] | None:
    return zoom(request).signer.verify(request.cookies.get(name))


async def start_session(
    request: web.Request, response: web.StreamResponse, person_id: str, *, in_zoom: bool
) -> None:
    """Sign the person in for this browser (or Zoom webview), reusing a live session of theirs."""
    current = await identify(request)
    if current is not None and current.via == "cookie" and current.person_id == person_id:
        return
    settings = request.app[SETTINGS]
    lifetime = timedelta(days=settings.session_cookie_days)
    device = "Zoom app" if in_zoom else describe_device(request.headers.get("User-Agent"))
    secret, _ = await request.app[REPOS].tokens.issue(
        person_id, kind="session", label="zoom", lifetime=lifetime, device=device
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        **cookie_options(request, in_zoom=in_zoom),
    )


# Its pages (body[data-page]), drawn by its own script, static/pages.js (front_end).
HOME_PAGE = "zoom"  # a linked Zoom user: the mentorship's pick, then the panel
LINK_PAGE = "zoom-link"  # an unknown Zoom user: how to link the account
PROBLEM_PAGE = "zoom-problem"  # the title says what went wrong
PAGES = (HOME_PAGE, LINK_PAGE, PROBLEM_PAGE)


def problem(request: web.Request, status: int, title: str) -> web.Response:
    """A calm page saying what went wrong (the front-end shows the title as the message)."""
    return render(request, PROBLEM_PAGE, title=title, status=status)
