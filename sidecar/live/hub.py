"""Which panels are open on which meeting, and telling them that something changed.

With several instances (`MENTOR_SIDECAR_REDIS_URL`) `remote` carries each event to the other
instances' panels too (sidecar/relay/events.py); without, it is None and nothing else changes.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from aiohttp import web

log = logging.getLogger(__name__)
KINDS = frozenset({"agenda", "meeting", "goals", "actions", "agreement", "erasure"})


class RemoteEvents(Protocol):
    """The other instances' panels (per meeting and per mentorship)."""

    def attach(
        self, deliver: Callable[[str, str, str | None, str | None], Awaitable[None]]
    ) -> None: ...

    def publish(
        self, kind: str, by: str, meeting_id: str | None, mentorship_id: str | None
    ) -> None: ...

    async def watch_meeting(self, meeting_id: str) -> None: ...

    def unwatch_meeting(self, meeting_id: str) -> None: ...

    async def watch_mentorship(self, mentorship_id: str) -> None: ...

    def unwatch_mentorship(self, mentorship_id: str) -> None: ...


class MeetingEvents:
    """The event sockets of each meeting, by meeting id and by mentorship id."""

    remote: RemoteEvents | None = None

    def __init__(self) -> None:
        self._by_meeting: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._mentorship_of: dict[str, str] = {}
        # Pages about the whole mentorship (the agreement page), which hear all of its events.
        self._by_mentorship: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        # Sockets here per mentorship (its meetings' and its own pages'): while any is open,
        # this instance hears the mentorship's events from the others.
        self._sockets_of: Counter[str] = Counter()

    def attach_remote(self, remote: RemoteEvents) -> None:
        self.remote = remote
        remote.attach(self._deliver)

    async def subscribed(self, meeting_id: str | None, mentorship_id: str) -> None:
        """Wait until the other instances' events for these reach this one (at once without
        Redis, or while it is down): a socket says hello after this."""
        remote = self.remote
        if remote is None:
            return
        if meeting_id is not None:
            await remote.watch_meeting(meeting_id)
        await remote.watch_mentorship(mentorship_id)

    def _counted(self, mentorship_id: str, change: int) -> None:
        self._sockets_of[mentorship_id] += change
        if self._sockets_of[mentorship_id] <= 0:
            del self._sockets_of[mentorship_id]
            if self.remote is not None:
                self.remote.unwatch_mentorship(mentorship_id)

    def add_mentorship(self, mentorship_id: str, ws: web.WebSocketResponse) -> None:
        if ws not in self._by_mentorship[mentorship_id]:
            self._by_mentorship[mentorship_id].add(ws)
            self._counted(mentorship_id, 1)

    def remove_mentorship(self, mentorship_id: str, ws: web.WebSocketResponse) -> None:
        sockets = self._by_mentorship.get(mentorship_id)
        if sockets is not None and ws in sockets:
            sockets.discard(ws)
            if not sockets:
                del self._by_mentorship[mentorship_id]
            self._counted(mentorship_id, -1)

    def add(self, meeting_id: str, mentorship_id: str, ws: web.WebSocketResponse) -> None:
        if ws not in self._by_meeting[meeting_id]:
            self._by_meeting[meeting_id].add(ws)
            self._counted(mentorship_id, 1)
        self._mentorship_of[meeting_id] = mentorship_id

    def watching(self, meeting_id: str) -> bool:
        return bool(self._by_meeting.get(meeting_id))

    def remove(self, meeting_id: str, ws: web.WebSocketResponse) -> None:
        sockets = self._by_meeting.get(meeting_id)
        if sockets is not None and ws in sockets:
            sockets.discard(ws)
            mentorship_id = self._mentorship_of.get(meeting_id)
            if not sockets:
                del self._by_meeting[meeting_id]
                self._mentorship_of.pop(meeting_id, None)
                if self.remote is not None:
                    self.remote.unwatch_meeting(meeting_id)
            if mentorship_id is not None:
                self._counted(mentorship_id, -1)

    async def publish(
        self, kind: str, by: str, *, meeting_id: str | None = None, mentorship_id: str | None = None
    ) -> None:
        """Tell the panels of one meeting, or of every open meeting of a mentorship; the
        mentorship's own pages hear both (given the mentorship, or knowing the meeting's)."""
        assert kind in KINDS
        if meeting_id is not None:
            mentorship_id = mentorship_id or self._mentorship_of.get(meeting_id)
        if self.remote is not None:  # after the change was committed, before the panels here
            self.remote.publish(kind, by, meeting_id, mentorship_id)
        await self._deliver(kind, by, meeting_id, mentorship_id)

    async def _deliver(
        self, kind: str, by: str, meeting_id: str | None, mentorship_id: str | None
    ) -> None:
        """To the panels here (an event of this instance or of another one)."""
        if kind not in KINDS:
            return
        if meeting_id is not None:
            targets: Iterable[str] = [meeting_id]
            mentorship_id = mentorship_id or self._mentorship_of.get(meeting_id)
        else:
            targets = [m for m, ms in self._mentorship_of.items() if ms == mentorship_id]
        sockets = [ws for target in list(targets) for ws in list(self._by_meeting.get(target, ()))]
        if mentorship_id is not None:
            sockets += list(self._by_mentorship.get(mentorship_id, ()))
        frame = json.dumps({"type": kind, "by": by})
        for ws in sockets:
            if not ws.closed:
                try:
                    await ws.send_str(frame)
                except ConnectionError:
                    log.debug("dropped an event to a closing socket")
