"""Every open websocket of the app (live notes, live events), and closing them by whose they are.

Each socket is registered with the token it was opened with, its person, meeting and
mentorship, so a revoked token, a sign-out or an erased mentorship closes exactly the sockets it
concerns, at once, instead of leaving them open until the client goes away.

Close codes follow y-websocket's convention (it never reconnects after 4400-4499, and
reconnects after anything else): 4400-4499 only where reconnecting cannot help (4401 the access
behind the socket was revoked, 4410 its meeting or mentorship was erased); 1001 on shutdown,
after which the client reconnects to the next instance by itself.

With several instances (Redis configured), each close is also published on
`mentor-sidecar:closes`; every other instance closes its own matching sockets with the same code.
While Redis is unreachable, each instance re-checks its sockets' tokens, meetings and
mentorships against the database whenever the relay resyncs (every `redis_resync_seconds`
during the outage and once when it is back), so a missed message leaves a socket open at most
that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from aiohttp import WSCloseCode, web

from sidecar.domain.errors import NotFound
from sidecar.keys import NOTE_ROOMS, REDIS_RELAY, REPOS, WEBSOCKETS
from sidecar.relay.redis_relay import CLOSES_CHANNEL, RedisRelay

log = logging.getLogger(__name__)

CLOSE_ACCESS_REVOKED = 4401
CLOSE_GONE = 4410
CLOSE_GOING_AWAY = int(WSCloseCode.GOING_AWAY)  # 1001


@dataclass(frozen=True, eq=False, slots=True)  # slots: one per open socket
class OpenSocket:
    ws: web.WebSocketResponse
    kind: str  # "notes", "events", or what another endpoint registers
    token_id: str | None = None
    person_id: str | None = None
    meeting_id: str | None = None
    mentorship_id: str | None = None


class OpenSockets:
    """The open websockets, each with whose it is (held until its handler discards it)."""

    def __init__(self) -> None:
        self._open: dict[web.WebSocketResponse, OpenSocket] = {}

    def add(
        self,
        ws: web.WebSocketResponse,
        *,
        kind: str = "other",
        token_id: str | None = None,
        person_id: str | None = None,
        meeting_id: str | None = None,
        mentorship_id: str | None = None,
    ) -> OpenSocket:
        entry = OpenSocket(ws, kind, token_id, person_id, meeting_id, mentorship_id)
        self._open[ws] = entry
        return entry

    def discard(self, ws: web.WebSocketResponse) -> None:
        self._open.pop(ws, None)

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[OpenSocket]:
        return iter(list(self._open.values()))  # a copy: closing one removes it

    def where(self, matches: Callable[[OpenSocket], bool]) -> list[OpenSocket]:
        return [entry for entry in self if matches(entry)]


async def close_sockets(sockets: list[OpenSocket], code: int, reason: str) -> int:
    """Close these sockets together (each waits for its client's answer); how many were open."""
    targets = [entry.ws for entry in sockets if not entry.ws.closed]
    if targets:
        message = reason.encode()[:120]  # a close frame's reason is at most 123 bytes
        results = await asyncio.gather(
            *(ws.close(code=code, message=message) for ws in targets), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.debug("closing a websocket failed: %r", result)
    return len(targets)


# Whose sockets a close concerns: what matches them, their close code and reason.
Whose = Literal["token", "person", "meeting", "mentorship"]
_CLOSES: dict[str, tuple[Callable[[OpenSocket], str | None], int, str]] = {
    "token": (lambda s: s.token_id, CLOSE_ACCESS_REVOKED, "access revoked"),
    "person": (lambda s: s.person_id, CLOSE_ACCESS_REVOKED, "access revoked"),
    "meeting": (lambda s: s.meeting_id, CLOSE_GONE, "meeting erased"),
    "mentorship": (lambda s: s.mentorship_id, CLOSE_GONE, "mentorship erased"),
}


async def close_here(app: web.Application, whose: str, key: str) -> int:
    """Close this instance's sockets of that token, person, meeting or mentorship."""
    field, code, reason = _CLOSES[whose]
    return await close_sockets(app[WEBSOCKETS].where(lambda s: field(s) == key), code, reason)


async def _close_everywhere(app: web.Application, whose: Whose, key: str) -> int:
    """Close here at once and tell the other instances (if any) to close theirs; how many
    were open here."""
    if REDIS_RELAY in app:  # never waits: dropped while Redis is down (see recheck_sockets)
        body = json.dumps({"whose": whose, "id": key}).encode()
        app[REDIS_RELAY].publish(CLOSES_CHANNEL, body)
    return await close_here(app, whose, key)


async def close_token_sockets(app: web.Application, token_id: str) -> int:
    """The token (or session) was revoked or signed out: close its sockets with 4401."""
    return await _close_everywhere(app, "token", token_id)


async def close_person_sockets(app: web.Application, person_id: str) -> int:
    """Every token of the person was revoked (signed out everywhere): 4401 on all their sockets."""
    return await _close_everywhere(app, "person", person_id)


async def close_meeting_sockets(app: web.Application, meeting_id: str) -> int:
    """The meeting was erased: close its sockets with 4410."""
    return await _close_everywhere(app, "meeting", meeting_id)


async def close_mentorship_sockets(app: web.Application, mentorship_id: str) -> int:
    """The mentorship was erased: close the sockets of all its meetings with 4410."""
    return await _close_everywhere(app, "mentorship", mentorship_id)


async def close_all_sockets(app: web.Application) -> int:
    """Shutting down: 1001 on every socket, so clients reconnect (to the next instance)."""
    sockets = app[WEBSOCKETS].where(lambda s: True)
    return await close_sockets(sockets, CLOSE_GOING_AWAY, "server shutting down")


# --- several instances ----------------------------------------------------------------------


# Even with Redis up, every socket is re-checked this often: a close message can still be lost
# without the receiving instance noticing any outage (only the sender's connection failed, or the
# sender alone was cut off from Redis). One query per person and per meeting/mentorship open here.
RECHECK_SECONDS = 60.0

Stop = Callable[[], Awaitable[None]]


async def watch_closes(app: web.Application, relay: RedisRelay) -> Stop:
    """Close this instance's sockets when another instance closes theirs (its own messages are
    skipped by the relay: it closed locally already), and re-check them on every resync and
    every RECHECK_SECONDS. Returns what stops it."""
    closing: set[asyncio.Task[int]] = set()

    def received(body: bytes) -> None:
        message = json.loads(body)
        whose, key = message.get("whose"), message.get("id")
        if whose not in _CLOSES or not isinstance(key, str):
            log.warning("ignored a close from another instance: %r", body[:200])
            return
        task = asyncio.ensure_future(_close_from_elsewhere(app, whose, key))
        closing.add(task)
        task.add_done_callback(closing.discard)

    async def recheck() -> None:
        await recheck_sockets(app)

    async def recheck_periodically() -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)  # a pace, not a wait for something
            try:
                await recheck_sockets(app)
            except Exception:
                log.exception("re-checking the open sockets failed; trying again later")

    async def stop() -> None:
        tasks = [periodic, *closing]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    relay.on_resync(recheck)
    await relay.watch(CLOSES_CHANNEL, received)
    periodic = asyncio.create_task(recheck_periodically())
    return stop


async def _close_from_elsewhere(app: web.Application, whose: str, key: str) -> int:
    """Another instance closed (and may be erasing): close here, and for an erasure forget this
    instance's rooms of those meetings too, as the erasing instance does with its own, so no
    update of them is stored from here after the delete."""
    field, code, reason = _CLOSES[whose]
    meetings = {
        s.meeting_id for s in app[WEBSOCKETS].where(lambda s: field(s) == key) if s.meeting_id
    }
    closed = await close_here(app, whose, key)
    if code == CLOSE_GONE:
        rooms = app[NOTE_ROOMS]
        for meeting_id in meetings:
            room = rooms.get(meeting_id)
            if room is not None:
                await rooms.drop(room, CLOSE_GONE, reason.encode())
                await room.flushed()
    return closed


async def recheck_sockets(app: web.Application) -> int:
    """Close the sockets whose token was revoked (4401) or whose meeting or mentorship was
    erased (4410) meanwhile, as the database says: what a close message lost in a Redis outage
    would have done. Only what the database positively says counts; an error leaves them open."""
    repos = app[REPOS]
    sockets = app[WEBSOCKETS].where(lambda s: True)
    live: dict[str, set[str]] = {}  # person id -> their tokens not revoked
    for person_id in {s.person_id for s in sockets if s.person_id and s.token_id}:
        tokens = await repos.tokens.list(person_id)
        live[person_id] = {t.id for t in tokens if t.revoked_at is None}
    revoked = [
        s
        for s in sockets
        if s.person_id in live and s.token_id is not None and s.token_id not in live[s.person_id]
    ]
    gone: set[tuple[str, str]] = set()  # (kind, id) erased
    for s in sockets:
        if s in revoked or s.person_id is None:
            continue
        for kind, key in (("meeting", s.meeting_id), ("mentorship", s.mentorship_id)):
            if key is None or (kind, key) in gone:
                continue
            try:
                if kind == "meeting":
                    await repos.meetings.get(key, viewer=s.person_id)
                else:
                    await repos.mentorships.get(key, viewer=s.person_id)
            except NotFound:
                gone.add((kind, key))
    erased = [
        s
        for s in sockets
        if s not in revoked and {("meeting", s.meeting_id), ("mentorship", s.mentorship_id)} & gone
    ]
    closed = await close_sockets(revoked, CLOSE_ACCESS_REVOKED, "access revoked")
    closed += await close_sockets(erased, CLOSE_GONE, "erased")
    if closed:
        log.info("closed %d sockets revoked or erased while Redis was unreachable", closed)
    return closed
