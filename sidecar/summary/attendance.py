"""Who joined a meeting and when.

The panel records a person when their panel socket opens; a call platform's events (through
sidecar/call_events.py) record when a person was in the call itself (`joined_call` /
`left_call`), which is what punctuality is measured from. The first join of either kind makes the
meeting live.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sidecar.db.database import DATABASE_ERRORS
from sidecar.db.repositories import Repositories
from sidecar.db.repositories.attendance import Arrival as Arrival
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.domain.models import Meeting
from sidecar.platforms.names import checked_platform_name

log = logging.getLogger(__name__)

# Opening the panel this long before the start counts as joining the call.
EARLY_JOIN = timedelta(minutes=15)
# Joining this long after the scheduled end is not holding the meeting (a look at it afterwards).
LATE_JOIN = timedelta(hours=1)
# A panel last seen more than this before the early-join window was someone preparing the
# agenda (often days before), not waiting for the call: it is not their arrival.
PREPARING = timedelta(hours=1)


def _around(meeting: Meeting) -> str:
    """Since when a panel open counts as being at the meeting."""
    return iso(meeting.scheduled_start - EARLY_JOIN - PREPARING)


async def seen(repos: Repositories, meeting: Meeting, person_id: str) -> None:
    """The panel was opened or closed; its first opening around the meeting is the arrival."""
    now = now_iso()
    async with repos.transaction():
        await repos.attendance.seen(meeting.id, person_id, at=now, around=_around(meeting))
        await _mark_live(repos, meeting.id, now)


async def seen_on_leaving(repos: Repositories, meeting: Meeting, person_id: str) -> None:
    """`seen` when a panel socket closes: a busy database then costs a last-seen time, not an
    error out of the socket's cleanup."""
    try:
        await seen(repos, meeting, person_id)
    except DATABASE_ERRORS as exc:
        log.warning("last seen of %s in %s not recorded: %s", person_id, meeting.id, exc)


async def joined_call(
    repos: Repositories,
    meeting: Meeting,
    person_id: str,
    *,
    source: str,
    at: datetime | None = None,
) -> bool:
    """A person entered the call on platform `source` (Zoom participant_joined, Jitsi occupant
    joined...); True when this join made the meeting live.

    Events arrive more than once and out of order: the earliest join is kept.
    """
    checked_platform_name(source)
    when = iso(at) if at is not None else now_iso()
    async with repos.transaction():
        await repos.attendance.joined_call(meeting.id, person_id, at=when, source=source)
        return await _mark_live(repos, meeting.id, when)


async def left_call(
    repos: Repositories,
    meeting: Meeting,
    person_id: str,
    *,
    source: str,
    at: datetime | None = None,
) -> None:
    """A person left the call; the latest leave is kept (they may rejoin and leave again)."""
    checked_platform_name(source)
    when = iso(at) if at is not None else now_iso()
    await repos.attendance.left_call(meeting.id, person_id, at=when, source=source)


async def _mark_live(repos: Repositories, meeting_id: str, now: str) -> bool:
    """A join in the meeting's window makes it live (True: this one did); opening the panel of
    a meeting whose time passed without it being held does not (it would end by itself later,
    with a summary of nothing)."""
    return await repos.meetings.go_live(
        meeting_id,
        at=now,
        starts_before=utcnow() + EARLY_JOIN,
        ends_after=datetime.fromisoformat(now) - LATE_JOIN,
    )


async def anyone_joined(repos: Repositories, meeting: Meeting) -> bool:
    """Whether anyone was in the call, or had the panel open around the meeting's time (from
    the early-join window to the scheduled end); opening it long after does not count."""
    return await repos.attendance.anyone_joined(
        meeting.id,
        window_start=iso(meeting.scheduled_start - EARLY_JOIN),
        window_end=iso(meeting.scheduled_end),
    )


async def attendees(repos: Repositories, meeting: Meeting) -> list[str]:
    """Who was at the meeting: in the call, or with the panel open around its time."""
    return await repos.attendance.attendees(meeting.id, around=_around(meeting))


async def arrivals(repos: Repositories, meeting: Meeting) -> list[Arrival]:
    """When each person joined the call (or, without call events, opened the panel)."""
    return await repos.attendance.arrivals(meeting.id, around=_around(meeting))


async def last_seen(repos: Repositories, meeting: Meeting) -> str | None:
    """When the last person left (their panel or the call): where a meeting that was left
    open ended, rather than when the idle check noticed."""
    return await repos.attendance.last_seen(meeting.id, around=_around(meeting))
