"""Who may open a meeting's or a mentorship's websocket, decided before the upgrade.

A foreign Origin, a missing, bad or revoked token, or a meeting of another pair all get a plain
403; nothing of the meeting is loaded for them.
"""

from __future__ import annotations

from aiohttp import web

from sidecar.api.auth import Identity, identify, public_origin
from sidecar.api.errors import ApiError
from sidecar.domain.errors import NotFound
from sidecar.domain.models import Meeting, Mentorship
from sidecar.keys import LIFECYCLE, REPOS


async def authorize_socket(request: web.Request) -> Identity:
    """Who opens this websocket: a foreign Origin, no or a bad token, or shutdown get a plain
    403/503 before the upgrade."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != public_origin(request):
        raise web.HTTPForbidden(text="Origin not allowed")
    try:
        identity = await identify(request, allow_query_token=True)
    except ApiError:
        identity = None
    if identity is None:
        raise web.HTTPForbidden(text="sign in: pass ?token= or the session cookie")
    if request.app[LIFECYCLE].shutting_down:
        raise web.HTTPServiceUnavailable(text="shutting down")
    return identity


async def authorize_meeting_socket(request: web.Request) -> tuple[Identity, Meeting]:
    identity = await authorize_socket(request)
    try:
        meeting = await request.app[REPOS].meetings.get(
            request.match_info["meeting_id"], viewer=identity.person_id
        )
    except NotFound:
        raise web.HTTPForbidden(text="not a meeting of yours") from None
    return identity, meeting


async def authorize_mentorship_socket(request: web.Request) -> tuple[Identity, Mentorship]:
    identity = await authorize_socket(request)
    try:
        mentorship = await request.app[REPOS].mentorships.get(
            request.match_info["mentorship_id"], viewer=identity.person_id
        )
    except NotFound:
        raise web.HTTPForbidden(text="not a mentorship of yours") from None
    return identity, mentorship
