"""Who joined a meeting and when.

The panel records a person when their panel socket opens; a call platform's events (through
sidecar/call_events.py) record when a person was in the call itself (`joined_call` /
`left_call`), which is what punctuality is measured from. The first join of either kind makes the
meeting live.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from sidecar.db import Database
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


async def seen(db: Database, meeting: Meeting, person_id: str) -> None:
    """The panel was opened or closed; its first opening around the meeting is the arrival."""
    now = now_iso()
    async with db.transaction():
        await db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at)"
            " VALUES (:meeting, :person, :now, :now) ON CONFLICT (meeting_id, person_id)"
            " DO UPDATE SET last_seen_at = excluded.last_seen_at,"
            " first_seen_at = CASE WHEN meeting_attendance.last_seen_at < :around"
            " AND excluded.last_seen_at >= :around THEN excluded.first_seen_at"
            " ELSE meeting_attendance.first_seen_at END",
            {"meeting": meeting.id, "person": person_id, "now": now, "around": _around(meeting)},
        )
        await _mark_live(db, meeting.id, now)


async def seen_on_leaving(db: Database, meeting: Meeting, person_id: str) -> None:
    """`seen` when a panel socket closes: a busy database then costs a last-seen time, not an
    error out of the socket's cleanup."""
    try:
        await seen(db, meeting, person_id)
    except sqlite3.Error as exc:
        log.warning("last seen of %s in %s not recorded: %s", person_id, meeting.id, exc)


async def joined_call(
    db: Database, meeting: Meeting, person_id: str, *, source: str, at: datetime | None = None
) -> bool:
    """A person entered the call on platform `source` (Zoom participant_joined, Jitsi occupant
    joined...); True when this join made the meeting live.

    Events arrive more than once and out of order: the earliest join is kept.
    """
    checked_platform_name(source)
    when = iso(at) if at is not None else now_iso()
    async with db.transaction():
        await db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at,"
            " joined_call_at, call_source) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (meeting_id, person_id) DO UPDATE SET"
            " last_seen_at = MAX(last_seen_at, excluded.last_seen_at),"
            " joined_call_at = MIN(COALESCE(joined_call_at, excluded.joined_call_at),"
            "                      excluded.joined_call_at),"
            " call_source = COALESCE(call_source, excluded.call_source)",
            (meeting.id, person_id, when, when, when, source),
        )
        return await _mark_live(db, meeting.id, when)


async def left_call(
    db: Database, meeting: Meeting, person_id: str, *, source: str, at: datetime | None = None
) -> None:
    """A person left the call; the latest leave is kept (they may rejoin and leave again)."""
    checked_platform_name(source)
    when = iso(at) if at is not None else now_iso()
    async with db.transaction():
        await db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at,"
            " left_call_at, call_source) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (meeting_id, person_id) DO UPDATE SET"
            " last_seen_at = MAX(last_seen_at, excluded.last_seen_at),"
            " left_call_at = MAX(COALESCE(left_call_at, ''), excluded.left_call_at),"
            " call_source = COALESCE(call_source, excluded.call_source)",
            (meeting.id, person_id, when, when, when, source),
        )


async def _mark_live(db: Database, meeting_id: str, now: str) -> bool:
    """A join in the meeting's window makes it live (True: this one did); opening the panel of
    a meeting whose time passed without it being held does not (it would end by itself later,
    with a summary of nothing)."""
    late = iso(datetime.fromisoformat(now) - LATE_JOIN)
    changed = await db.execute(
        "UPDATE meetings SET status = 'live', started_at = COALESCE(started_at, ?)"
        " WHERE id = ? AND status = 'scheduled' AND scheduled_start <= ? AND scheduled_end > ?",
        (now, meeting_id, iso(utcnow() + EARLY_JOIN), late),
    )
    return changed > 0


async def anyone_joined(db: Database, meeting: Meeting) -> bool:
    """Whether anyone was in the call, or had the panel open around the meeting's time (from
    the early-join window to the scheduled end); opening it long after does not count."""
    found = await db.fetch_value(
        "SELECT 1 FROM meeting_attendance WHERE meeting_id = ? AND (joined_call_at IS NOT NULL"
        " OR (first_seen_at <= ? AND last_seen_at >= ?)) LIMIT 1",
        (meeting.id, iso(meeting.scheduled_end), iso(meeting.scheduled_start - EARLY_JOIN)),
    )
    return found is not None


# Who was at the meeting: in the call, or with the panel open around its time.
_PRESENT = "meeting_id = :meeting AND (joined_call_at IS NOT NULL OR last_seen_at >= :around)"


async def attendees(db: Database, meeting: Meeting) -> list[str]:
    rows = await db.fetch_all(
        f"SELECT person_id FROM meeting_attendance WHERE {_PRESENT} ORDER BY first_seen_at",
        {"meeting": meeting.id, "around": _around(meeting)},
    )
    return [row["person_id"] for row in rows]


@dataclass(frozen=True)
class Arrival:
    person_id: str
    joined_at: datetime


async def arrivals(db: Database, meeting: Meeting) -> list[Arrival]:
    """When each person joined the call (or, without call events, opened the panel)."""
    rows = await db.fetch_all(
        "SELECT person_id, COALESCE(joined_call_at, first_seen_at) AS joined"
        f" FROM meeting_attendance WHERE {_PRESENT} ORDER BY joined",
        {"meeting": meeting.id, "around": _around(meeting)},
    )
    return [Arrival(row["person_id"], datetime.fromisoformat(row["joined"])) for row in rows]


async def last_seen(db: Database, meeting: Meeting) -> str | None:
    """When the last person left (their panel or the call): where a meeting that was left
    open ended, rather than when the idle check noticed."""
    value = await db.fetch_value(
        "SELECT MAX(MAX(last_seen_at), COALESCE(MAX(left_call_at), ''))"
        " FROM meeting_attendance WHERE meeting_id = :meeting"
        " AND (joined_call_at IS NOT NULL OR last_seen_at >= :around)",
        {"meeting": meeting.id, "around": _around(meeting)},
    )
    return str(value) if value else None
