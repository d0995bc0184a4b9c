"""One-time sign-in links (`/signin/{code}`), and the page after signing out.

A link shown to its person (invite flow, demo, `POST /api/v1/me/signin-links`) signs in when
opened. A link sent by email (`needs_click`) opens a page with a Sign in button that POSTs here:
mail scanners fetch every link in a message, and would otherwise use it up before its reader.
A browser already signed in as the link's person just goes on to `next`, whether or not the link
still works, so an old email's link keeps leading to its meeting.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from sidecar.api.auth import SESSION_COOKIE, identify, is_secure, public_origin
from sidecar.domain.errors import NotFound
from sidecar.keys import REPOS, SETTINGS
from sidecar.web.devices import describe_device
from sidecar.web.open_sockets import close_token_sockets
from sidecar.web.pages import local_path, render

USED_TITLE = "This link has been used"


async def open_link(request: web.Request) -> web.Response:
    """GET /signin/{code}: follow, sign in, or show the Sign in button, as the link asks."""
    repos = request.app[REPOS]
    try:
        link = await repos.tokens.peek_signin_link(request.match_info["code"])
    except NotFound:
        return _used(request)
    identity = await identify(request)
    if identity is not None and identity.person_id == link.person_id:
        raise web.HTTPSeeOther(local_path(request.query.get("next", "/")))
    if not link.usable:
        return _used(request)
    if link.needs_click:
        page = render(request, "signin", title="Sign in to Mentor Sidecar")
        page.headers["Cache-Control"] = "no-store"
        return page
    return await _sign_in(request)


async def press_sign_in(request: web.Request) -> web.Response:
    """POST /signin/{code}: the Sign in button of a link sent by email."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != public_origin(request):
        # Someone else's page signing this browser in as them ("login CSRF").
        raise web.HTTPForbidden(text="Sign in from Mentor Sidecar's own page.")
    return await _sign_in(request)


async def _sign_in(request: web.Request) -> web.Response:
    repos, settings = request.app[REPOS], request.app[SETTINGS]
    try:
        person_id = await repos.tokens.redeem_signin_link(request.match_info["code"])
    except NotFound:
        return _used(request)
    replaced = await identify(request)
    if replaced is not None and replaced.via == "cookie":
        # The new cookie replaces this browser's old session: it is no longer a device of anyone.
        await repos.tokens.revoke(replaced.person_id, replaced.token_id)
        await close_token_sockets(request.app, replaced.token_id)
    lifetime = timedelta(days=settings.session_cookie_days)
    secret, _ = await repos.tokens.issue(
        person_id,
        kind="session",
        label="browser",
        lifetime=lifetime,
        device=describe_device(request.headers.get("User-Agent")),
    )
    response = web.HTTPSeeOther(local_path(request.query.get("next", "/")))
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        secure=is_secure(request),
        samesite="Lax",
    )
    raise response


def _used(request: web.Request) -> web.Response:
    return render(request, "link-used", title=USED_TITLE, status=404)


async def signed_out(request: web.Request) -> web.Response:
    """Where signing out lands: how to get back in."""
    if await identify(request) is not None:
        raise web.HTTPSeeOther("/")
    return render(request, "after-signout", title="You are signed out")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/signin/{code}", open_link)
    app.router.add_post("/signin/{code}", press_sign_in)
    app.router.add_get("/signed-out", signed_out)
