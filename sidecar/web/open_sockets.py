"""Every open websocket of the app (live notes, live events), and closing them by whose they are.

Each socket is registered with the token it was opened with, its person, meeting and
mentorship, so a revoked token, a sign-out or an erased mentorship closes exactly the sockets it
concerns, at once, instead of leaving them open until the client goes away.

Close codes follow y-websocket's convention (it never reconnects after 4400-4499, and
reconnects after anything else): 4400-4499 only where reconnecting cannot help (4401 the access
behind the socket was revoked, 4410 its meeting or mentorship was erased); 1001 on shutdown,
after which the client reconnects to the next instance by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import WSCloseCode, web

from sidecar.keys import WEBSOCKETS

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


async def close_token_sockets(app: web.Application, token_id: str) -> int:
    """The token (or session) was revoked or signed out: close its sockets with 4401."""
    sockets = app[WEBSOCKETS].where(lambda s: s.token_id == token_id)
    return await close_sockets(sockets, CLOSE_ACCESS_REVOKED, "access revoked")


async def close_person_sockets(app: web.Application, person_id: str) -> int:
    """Every token of the person was revoked (signed out everywhere): 4401 on all their sockets."""
    sockets = app[WEBSOCKETS].where(lambda s: s.person_id == person_id)
    return await close_sockets(sockets, CLOSE_ACCESS_REVOKED, "access revoked")


async def close_meeting_sockets(app: web.Application, meeting_id: str) -> int:
    """The meeting was erased: close its sockets with 4410."""
    sockets = app[WEBSOCKETS].where(lambda s: s.meeting_id == meeting_id)
    return await close_sockets(sockets, CLOSE_GONE, "meeting erased")


async def close_mentorship_sockets(app: web.Application, mentorship_id: str) -> int:
    """The mentorship was erased: close the sockets of all its meetings with 4410."""
    sockets = app[WEBSOCKETS].where(lambda s: s.mentorship_id == mentorship_id)
    return await close_sockets(sockets, CLOSE_GONE, "mentorship erased")


async def close_all_sockets(app: web.Application) -> int:
    """Shutting down: 1001 on every socket, so clients reconnect (to the next instance)."""
    sockets = app[WEBSOCKETS].where(lambda s: True)
    return await close_sockets(sockets, CLOSE_GOING_AWAY, "server shutting down")
