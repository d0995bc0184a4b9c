"""The one place a call platform reports what happened in a meeting's call.

Every platform (zoom_app, jitsi_app, a third one) reports three things, whichever of its own
sources saw them (a webhook, the embedded client, a server module): a person joined the call, a
person left it, the call is over. This service owns what they mean for the meeting:

- attendance keeps the earliest join and the latest leave, so reports arriving twice, late, out
  of order or from both sides of a platform are harmless;
- a join from 15 minutes before the start to an hour after the end makes the meeting live, and
  the join that did is the one that tells the open panels, once;
- "over" ends a meeting only once it is live (trying the camera in the room the day before sends
  no summary), and `end_meeting` writes one summary however many "over" reports race, from
  however many platforms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aiohttp import web

from sidecar.domain.ids import utcnow
from sidecar.domain.models import Meeting
from sidecar.keys import LIVE_EVENTS, REPOS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.platforms.names import checked_platform_name
from sidecar.summary import attendance

log = logging.getLogger(__name__)

CallEventKind = Literal["joined", "left", "ended"]


@dataclass(frozen=True)
class CallEvent:
    """What a platform saw: `person_id` joined or left (None for "ended"), at `at`, on `platform`.

    For "ended", `person_id` is who ended it when the platform knows (the summary's writer)."""

    kind: CallEventKind
    meeting_id: str
    platform: str
    person_id: str | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        checked_platform_name(self.platform)
        if self.kind != "ended" and not self.person_id:
            raise ValueError(f"a {self.kind!r} call event names the person")


async def report(app: web.Application, event: CallEvent) -> bool:
    """Record the event; True when it changed the meeting (made it live, or ended it)."""
    meeting = await meeting_record(app, event.meeting_id)
    if event.kind == "ended":
        return await _ended(app, meeting, event)
    at = event.at or utcnow()
    person = event.person_id or ""
    repos = app[REPOS]
    if event.kind == "left":
        await attendance.left_call(repos, meeting, person, source=event.platform, at=at)
        return False
    went_live = await attendance.joined_call(repos, meeting, person, source=event.platform, at=at)
    if went_live:  # the panels show the meeting live
        await app[LIVE_EVENTS].publish("meeting", person, meeting_id=meeting.id)
    return went_live


async def joined(
    app: web.Application, meeting_id: str, person_id: str, *, platform: str, at: datetime
) -> bool:
    return await report(app, CallEvent("joined", meeting_id, platform, person_id, at))


async def left(
    app: web.Application, meeting_id: str, person_id: str, *, platform: str, at: datetime
) -> None:
    await report(app, CallEvent("left", meeting_id, platform, person_id, at))


async def ended(
    app: web.Application, meeting_id: str, *, platform: str, by: str | None = None
) -> bool:
    """The call is over; True only for the report that ended the meeting."""
    return await report(app, CallEvent("ended", meeting_id, platform, by))


async def _ended(app: web.Application, meeting: Meeting, event: CallEvent) -> bool:
    # Only a live meeting, decided under the meeting's lock (end_meeting logs the others).
    return await end_meeting(
        app, meeting.id, source=event.platform, actor=event.person_id, only_if_live=True
    )


async def meeting_record(app: web.Application, meeting_id: str) -> Meeting:
    """The meeting, read by the service itself (a platform's events carry no viewer)."""
    return await app[REPOS].meetings.read_for_service(meeting_id)
