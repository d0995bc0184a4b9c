"""Which panels are open on which meeting, and telling them that something changed."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable

from aiohttp import web

log = logging.getLogger(__name__)
KINDS = frozenset({"agenda", "meeting", "goals", "actions", "agreement", "erasure"})


class MeetingEvents:
    """The event sockets of each meeting, by meeting id and by mentorship id."""

    def __init__(self) -> None:
        self._by_meeting: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._mentorship_of: dict[str, str] = {}
        # Pages about the whole mentorship (the agreement page), which hear all of its events.
        self._by_mentorship: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def add_mentorship(self, mentorship_id: str, ws: web.WebSocketResponse) -> None:
        self._by_mentorship[mentorship_id].add(ws)

    def remove_mentorship(self, mentorship_id: str, ws: web.WebSocketResponse) -> None:
        sockets = self._by_mentorship.get(mentorship_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self._by_mentorship[mentorship_id]

    def add(self, meeting_id: str, mentorship_id: str, ws: web.WebSocketResponse) -> None:
        self._by_meeting[meeting_id].add(ws)
        self._mentorship_of[meeting_id] = mentorship_id

    def watching(self, meeting_id: str) -> bool:
        return bool(self._by_meeting.get(meeting_id))

    def remove(self, meeting_id: str, ws: web.WebSocketResponse) -> None:
        sockets = self._by_meeting.get(meeting_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self._by_meeting[meeting_id]
                self._mentorship_of.pop(meeting_id, None)

    async def publish(
        self, kind: str, by: str, *, meeting_id: str | None = None, mentorship_id: str | None = None
    ) -> None:
        """Tell the panels of one meeting, or of every open meeting of a mentorship; the
        mentorship's own pages hear both (given the mentorship, or knowing the meeting's)."""
        assert kind in KINDS
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
