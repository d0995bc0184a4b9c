"""`/ws/mentorships/{mentorship_id}/events`: the live events of a whole mentorship, for the pages
that are about the pair rather than one meeting (the agreement and schedule page).

Same frames as a meeting's events socket (`{"type": "hello"}`, then `{"type": ..., "by": ...}`),
but it is no one's presence in a meeting: opening the agreement page neither counts as attending
the next meeting nor keeps a live one from ending. It works before the pair has any meeting.
"""

from __future__ import annotations

import json

from aiohttp import WSMsgType, web

from sidecar.keys import LIVE_EVENTS, SETTINGS, SOCKET_BUDGET, WEBSOCKETS
from sidecar.limits import hold_socket, message_bucket
from sidecar.web.socket_auth import authorize_mentorship_socket


async def mentorship_events_socket(request: web.Request) -> web.StreamResponse:
    identity, mentorship = await authorize_mentorship_socket(request)

    ws = web.WebSocketResponse(compress=False, heartbeat=25, max_msg_size=1024)
    budget, settings = request.app[SOCKET_BUDGET], request.app[SETTINGS]
    held = await hold_socket(budget, settings, identity.person_id)  # per person: 429 when full
    await held.prepare(ws, request)
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
        await hub.subscribed(None, mentorship.id)  # the other instances' events reach it too
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
        await held.release()
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/mentorships/{mentorship_id}/events", mentorship_events_socket)
