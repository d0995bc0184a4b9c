"""`/ws/mentorships/{mentorship_id}/events`: the live events of a whole mentorship, for the pages
that are about the pair rather than one meeting (the agreement and schedule page).

Same frames as a meeting's events socket (`{"type": "hello"}`, then `{"type": ..., "by": ...}`),
but it is no one's presence in a meeting: opening the agreement page neither counts as attending
the next meeting nor keeps a live one from ending. It works before the pair has any meeting.
"""

from __future__ import annotations

import json

from aiohttp import WSMsgType, web

from sidecar.api.auth import identify, public_origin
from sidecar.api.errors import ApiError
from sidecar.domain.errors import NotFound
from sidecar.keys import LIFECYCLE, LIVE_EVENTS, REPOS, SETTINGS, WEBSOCKETS
from sidecar.limits import message_bucket


async def mentorship_events_socket(request: web.Request) -> web.StreamResponse:
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
        mentorship = await request.app[REPOS].mentorships.get(
            request.match_info["mentorship_id"], viewer=identity.person_id
        )
    except NotFound:
        raise web.HTTPForbidden(text="not a mentorship of yours") from None
    if request.app[LIFECYCLE].shutting_down:
        raise web.HTTPServiceUnavailable(text="shutting down")

    ws = web.WebSocketResponse(compress=False, heartbeat=25, max_msg_size=1024)
    await ws.prepare(request)
    hub = request.app[LIVE_EVENTS]
    # Registered with its mentorship, so erasing it or revoking the session closes this too.
    request.app[WEBSOCKETS].add(
        ws,
        kind="events",
        token_id=identity.token_id,
        person_id=identity.person_id,
        mentorship_id=mentorship.id,
    )
    hub.add_mentorship(mentorship.id, ws)
    try:
        await ws.send_str(json.dumps({"type": "hello"}))
        allowance = message_bucket(request.app[SETTINGS])
        async for message in ws:
            if allowance is not None and allowance.take():
                await allowance.wait()  # slowed down, never closed
                if ws.closed:
                    break
            if message.type == WSMsgType.TEXT and message.data == "ping":
                await ws.send_str('{"type": "pong"}')
    finally:
        hub.remove_mentorship(mentorship.id, ws)
        request.app[WEBSOCKETS].discard(ws)
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/mentorships/{mentorship_id}/events", mentorship_events_socket)
