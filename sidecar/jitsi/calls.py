"""What the call's events mean for a meeting, whichever side reports them.

Both the iframe on the call page (through the API) and Prosody's event_sync module (through the
webhook) report the same things: a person entered the call, a person left it, the call is over.
Attendance keeps the earliest join and the latest leave, so reports arriving twice, late or from
both sides are harmless; `end_meeting` writes one summary however many "over" reports race.

A call ends a meeting only once the meeting is live (someone was in the call no earlier than
15 minutes before the start): trying the camera in the room the day before does not send the
summary.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from sidecar.keys import LIVE_EVENTS, REPOS
from sidecar.summary import attendance
from sidecar.summary.ending import end_meeting

from .rooms import meeting_record

log = logging.getLogger(__name__)


async def joined(app: web.Application, meeting_id: str, person_id: str, at: datetime) -> None:
    db = app[REPOS].db
    meeting = await meeting_record(db, meeting_id)
    await attendance.joined_call(db, meeting, person_id, source="jitsi", at=at)
    after = await meeting_record(db, meeting_id)
    if after.status != meeting.status:  # the first join made it live: the panels show it
        await app[LIVE_EVENTS].publish("meeting", person_id, meeting_id=meeting_id)


async def left(app: web.Application, meeting_id: str, person_id: str, at: datetime) -> None:
    db = app[REPOS].db
    meeting = await meeting_record(db, meeting_id)
    await attendance.left_call(db, meeting, person_id, source="jitsi", at=at)


async def call_over(app: web.Application, meeting_id: str, *, actor: str | None) -> bool:
    """End the meeting because its call is over; True only for the report that ended it."""
    meeting = await meeting_record(app[REPOS].db, meeting_id)
    if meeting.status != "live":
        log.info("jitsi: meeting %s's call over while %s: not ended", meeting_id, meeting.status)
        return False
    return await end_meeting(app, meeting_id, source="jitsi", actor=actor)
