"""Who may open a meeting's websocket, decided before the upgrade.

A foreign Origin, a missing, bad or revoked token, or a meeting of another pair all get a plain
403; nothing of the meeting is loaded for them.
"""

from __future__ import annotations

from aiohttp import web

from sidecar.api.auth import Identity, identify, public_origin
from sidecar.api.errors import ApiError
from sidecar.domain.errors import NotFound
from sidecar.domain.models import Meeting
from sidecar.keys import LIFECYCLE, REPOS


async def authorize_meeting_socket(request: web.Request) -> tuple[Identity, Meeting]:
    origin = request.headers.get("Origin")
    if origin is not None and origin != public_origin(request):
        raise web.HTTPForbidden(text="Origin not allowed")
    try:
        identity = await identify(request, allow_query_token=True)
    except ApiError:
        identity = None
    if identity is None:
        raise web.HTTPForbidden(text="sign in: pass ?token= or the session cookie")
    try:
        meeting = await request.app[REPOS].meetings.get(
            request.match_info["meeting_id"], viewer=identity.person_id
        )
    except NotFound:
        raise web.HTTPForbidden(text="not a meeting of yours") from None
    if request.app[LIFECYCLE].shutting_down:
        raise web.HTTPServiceUnavailable(text="shutting down")
    return identity, meeting
