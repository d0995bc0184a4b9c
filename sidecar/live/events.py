"""`/ws/meetings/{meeting_id}/events`: tells each open panel what changed, to refresh that part.

The agenda, goals and next steps live in SQL, written through the REST API; after a change is
committed the handler publishes a small event (`{"type": "agenda", "by": person_id}`) to every
socket of that meeting's pair. Panels refetch what the event names. Notes have their own CRDT
socket; this one carries no content, so a lost event costs only freshness (the panel also
refetches when it reconnects).
"""

from __future__ import annotations

import json

from aiohttp import WSMsgType, web

from sidecar.keys import LIVE_EVENTS, REPOS, SETTINGS, SOCKET_BUDGET, WEBSOCKETS
from sidecar.limits import hold_socket, message_bucket
from sidecar.summary import attendance
from sidecar.web.socket_auth import authorize_meeting_socket


async def events_socket(request: web.Request) -> web.StreamResponse:
    identity, meeting = await authorize_meeting_socket(request)
    ws = web.WebSocketResponse(compress=False, heartbeat=25, max_msg_size=1024)
    budget, settings = request.app[SOCKET_BUDGET], request.app[SETTINGS]
    held = await hold_socket(budget, settings, identity.person_id, meeting.id)  # 429 when full
    await held.prepare(ws, request)
    hub = request.app[LIVE_EVENTS]
    request.app[WEBSOCKETS].add(
        ws,
        kind="events",
        token_id=identity.token_id,
        person_id=identity.person_id,
        meeting_id=meeting.id,
        mentorship_id=meeting.mentorship_id,
    )
    hub.add(meeting.id, meeting.mentorship_id, ws)
    await attendance.seen(request.app[REPOS], meeting, identity.person_id)
    try:
        # Hello once the other instances' events reach this one too (at once with one instance).
        await hub.subscribed(meeting.id, meeting.mentorship_id)
        await ws.send_str(json.dumps({"type": "hello"}))
        allowance = message_bucket(request.app[SETTINGS])
        async for message in ws:
            if allowance is not None and allowance.take():
                await allowance.wait()  # slowed down, never closed: nothing reads meanwhile
                if ws.closed:
                    break
            if message.type == WSMsgType.TEXT and message.data == "ping":
                await ws.send_str('{"type": "pong"}')
    finally:
        hub.remove(meeting.id, ws)
        request.app[WEBSOCKETS].discard(ws)
        await held.release()
        await attendance.seen_on_leaving(request.app[REPOS], meeting, identity.person_id)
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/meetings/{meeting_id}/events", events_socket)
