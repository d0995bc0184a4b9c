"""Live panel events between instances.

An event whose mentorship is known goes on `mentor-sidecar:mentorship:{mentorship_id}:events`
(every panel of the pair's meetings and the mentorship's own pages hear it); one naming only a
meeting this instance knows nothing more about goes on `mentor-sidecar:{meeting_id}:events`.
The body is JSON: `{"kind", "by", "meeting", "mentorship"}`. Each instance subscribes to the
channels of the meetings and mentorships it has sockets for, so a panel hears an event once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sidecar.relay.redis_relay import RedisRelay, meeting_events_channel, mentorship_events_channel

# The hub's local delivery: (kind, by, meeting_id, mentorship_id).
Deliver = Callable[[str, str, str | None, str | None], Awaitable[None]]


class EventsRelay:
    """`sidecar.live.hub.RemoteEvents` over Redis."""

    def __init__(self, relay: RedisRelay) -> None:
        self.relay = relay
        self._deliver: Deliver | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(
        self, kind: str, by: str, meeting_id: str | None, mentorship_id: str | None
    ) -> None:
        body = json.dumps(
            {"kind": kind, "by": by, "meeting": meeting_id, "mentorship": mentorship_id}
        ).encode()
        if mentorship_id is not None:
            self.relay.publish(mentorship_events_channel(mentorship_id), body)
        elif meeting_id is not None:
            self.relay.publish(meeting_events_channel(meeting_id), body)

    async def watch_meeting(self, meeting_id: str) -> None:
        await self.relay.watch(meeting_events_channel(meeting_id), self._received)

    def unwatch_meeting(self, meeting_id: str) -> None:
        self.relay.unwatch(meeting_events_channel(meeting_id))

    async def watch_mentorship(self, mentorship_id: str) -> None:
        await self.relay.watch(mentorship_events_channel(mentorship_id), self._received)

    def unwatch_mentorship(self, mentorship_id: str) -> None:
        self.relay.unwatch(mentorship_events_channel(mentorship_id))

    def _received(self, body: bytes) -> None:
        event: dict[str, Any] = json.loads(body)
        if self._deliver is None:
            return
        task = asyncio.ensure_future(
            self._deliver(
                str(event["kind"]), str(event["by"]), event.get("meeting"), event.get("mentorship")
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
