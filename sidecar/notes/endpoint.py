"""`/ws/notes/{meeting_id}`: the y-websocket endpoint, and the notes' lifetime in the app.

Who may connect is decided before the upgrade: a foreign Origin, a missing or bad token, or a
meeting the person is not part of all get a plain 403, and no document is loaded for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from sidecar.db.database import DATABASE_ERRORS
from sidecar.domain.errors import NotFound
from sidecar.domain.models import Meeting
from sidecar.keys import NOTE_ROOMS, REDIS_RELAY, REPOS, SETTINGS, SOCKET_BUDGET, WEBSOCKETS
from sidecar.limits import hold_socket, message_bucket
from sidecar.notes import aiohttp_gate
from sidecar.notes.direct import NotesWebSocket
from sidecar.notes.fanout import LocalFanout
from sidecar.notes.protocol import ProtocolError, is_update_frame
from sidecar.notes.room import Connection, DocumentTooLarge, RoomLimits, Rooms, StorageFailed
from sidecar.notes.store import RunningNotesStore
from sidecar.relay.notes import NotesRelay
from sidecar.summary import attendance
from sidecar.web.socket_auth import authorize_meeting_socket

log = logging.getLogger(__name__)

# 4400-4499 tell y-websocket not to reconnect: retrying the same bad input cannot succeed.
CLOSE_MALFORMED = 4400
CLOSE_TOO_LARGE = 4413
CLOSE_STORAGE_FAILED = 1011
_CLOSED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


async def notes_socket(request: web.Request) -> web.StreamResponse:
    app = request.app
    identity, meeting = await authorize_meeting_socket(request)
    zone = await app[REPOS].notes.heading_timezone(meeting.mentorship_id)
    first_text = _first_text(meeting, zone)
    # Only ids are kept while the socket is open: the meeting's model is a few KiB, and an open
    # meeting holds two sockets for hours (memory per idle open meeting, bench/README.md).
    meeting_id, mentorship_id = meeting.id, meeting.mentorship_id

    settings = app[SETTINGS]
    # compress=False: per-message deflate multiplied tail latency by eight for tiny Yjs frames.
    ws = NotesWebSocket(
        fast=aiohttp_gate.use_fast_path(settings.notes_fast_path),
        compress=False,
        max_msg_size=settings.notes_max_message_bytes,
    )
    # Open sockets per person and meeting, on every instance: 429 before the upgrade when full.
    held = await hold_socket(app[SOCKET_BUDGET], settings, identity.person_id, meeting_id)
    await held.prepare(ws, request)
    app[WEBSOCKETS].add(
        ws,
        kind="notes",
        token_id=identity.token_id,
        person_id=identity.person_id,
        meeting_id=meeting_id,
        mentorship_id=mentorship_id,
    )
    conn = Connection(ws, identity.person_id)
    rooms = app[NOTE_ROOMS]
    room = None
    try:
        await attendance.seen(app[REPOS], meeting, identity.person_id)
        del meeting
        room = await rooms.join(meeting_id, conn, lambda: first_text)
        await room.welcome(conn)
        allowance = message_bucket(settings)
        receive, take_update, can_take = ws.receive, room.take_update, room.can_take_now

        def take_now(frame: bytes) -> bool:
            """Most frames: an update stored and relayed without waking this handler."""
            if ws.closed or not is_update_frame(frame) or not can_take():
                return False
            if allowance is not None and allowance.take():
                return False  # over its budget: the handler waits before reading on
            take_update(conn, frame)
            return True

        ws.take_directly(take_now)
        while True:
            message = await receive()
            kind = message.type
            if kind in _CLOSED:  # as `async for message in ws` ends
                break
            if allowance is not None and allowance.take():
                # Back-pressure, not a close: while this waits nothing reads the socket, so
                # aiohttp's queue fills, the transport pauses and TCP holds the sender back.
                await allowance.wait()
                if ws.closed:  # closed meanwhile (revoked, erased, shutting down)
                    break
            if kind is WSMsgType.BINARY:
                frame = message.data
                if is_update_frame(frame):  # most messages: applied and queued, no coroutine
                    wait = take_update(conn, frame)
                    if wait is not None:
                        await room.wait_stored(wait)
                else:
                    await room.receive(conn, frame)
            elif kind is WSMsgType.TEXT:
                raise ProtocolError("text frame; y-websocket messages are binary")
    except ProtocolError as exc:
        await ws.close(code=CLOSE_MALFORMED, message=f"malformed message: {exc}".encode()[:120])
    except DocumentTooLarge:
        limit = settings.notes_max_document_bytes
        await ws.close(code=CLOSE_TOO_LARGE, message=f"notes over the {limit} byte limit".encode())
    except StorageFailed:
        log.exception("storing a note update of %s failed; reloading the room", meeting_id)
        if room is not None:
            await rooms.drop(room, CLOSE_STORAGE_FAILED, b"storage failed; reconnect to resync")
    except ConnectionError:
        pass
    except Exception:
        log.exception("notes socket of %s failed", meeting_id)
        await ws.close(code=CLOSE_STORAGE_FAILED, message=b"server error; reconnecting resyncs")
    finally:
        ws.take_directly(None)
        app[WEBSOCKETS].discard(ws)
        await held.release()
        if room is not None:
            await rooms.leave(room, conn)
            await _seen_on_leaving(app, meeting_id, identity.person_id)
    return ws


async def _seen_on_leaving(app: web.Application, meeting_id: str, person_id: str) -> None:
    """The last-seen time, with the meeting read again (it may have moved, or been erased)."""
    try:
        meeting = await app[REPOS].meetings.read_for_service(meeting_id)
    except NotFound:  # erased meanwhile: there is no attendance to record
        return
    except DATABASE_ERRORS as exc:  # as `seen_on_leaving`: a lost last-seen time, not an error
        log.warning("last seen of %s in %s not recorded: %s", person_id, meeting_id, exc)
        return
    await attendance.seen_on_leaving(app[REPOS], meeting, person_id)


def _first_text(meeting: Meeting, timezone: str) -> str:
    """Notes start dated: the meeting's date where the mentee lives (they prepare the agenda)."""
    day = meeting.scheduled_start.astimezone(ZoneInfo(timezone)).date()
    return f"# {meeting.title} ({day.isoformat()})\n\n"


@asynccontextmanager
async def running_notes(app: web.Application, store: RunningNotesStore) -> AsyncIterator[None]:
    """The notes store's writer and the rooms: started after the database, stopped before it
    (sidecar/app.py builds the store for the service's database)."""
    settings = app[SETTINGS]
    await store.start()
    fast = aiohttp_gate.use_fast_path(settings.notes_fast_path)
    log.info(aiohttp_gate.describe(settings.notes_fast_path))
    limits = RoomLimits(
        max_document_bytes=settings.notes_max_document_bytes,
        compact_every=settings.notes_compact_every,
        idle_seconds=settings.notes_room_idle_seconds,
    )
    relay = app.get(REDIS_RELAY)
    remote = None if relay is None else NotesRelay(relay)  # several instances: through Redis
    rooms = app[NOTE_ROOMS] = Rooms(store, LocalFanout(raw_writes=fast, remote=remote), limits)
    if remote is not None:
        remote.attach(rooms)
    try:
        yield
    finally:
        try:
            await app[NOTE_ROOMS].close()
        finally:
            await store.stop()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/notes/{meeting_id}", notes_socket)
