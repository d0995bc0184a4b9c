"""Who joined a meeting and when.

The panel records a person when their panel socket opens; Zoom and Jitsi events record when a
person was in the call itself (`joined_call` / `left_call`), which is what punctuality is measured
from. The first join of either kind makes the meeting live.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from sidecar.db import Database
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.domain.models import Meeting

log = logging.getLogger(__name__)

# Opening the panel this long before the start counts as joining the call.
EARLY_JOIN = timedelta(minutes=15)
CALL_SOURCES = frozenset({"zoom", "jitsi"})


async def seen(db: Database, meeting: Meeting, person_id: str) -> None:
    now = now_iso()
    async with db.transaction():
        await db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (meeting_id, person_id)"
            " DO UPDATE SET last_seen_at = excluded.last_seen_at",
            (meeting.id, person_id, now, now),
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
) -> None:
    """A person entered the call (Zoom participant_joined, Jitsi occupant joined...).

    Events arrive more than once and out of order: the earliest join is kept.
    """
    assert source in CALL_SOURCES
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
        await _mark_live(db, meeting.id, when)


async def left_call(
    db: Database, meeting: Meeting, person_id: str, *, source: str, at: datetime | None = None
) -> None:
    """A person left the call; the latest leave is kept (they may rejoin and leave again)."""
    assert source in CALL_SOURCES
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


async def _mark_live(db: Database, meeting_id: str, now: str) -> None:
    await db.execute(
        "UPDATE meetings SET status = 'live', started_at = COALESCE(started_at, ?)"
        " WHERE id = ? AND status = 'scheduled' AND scheduled_start <= ?",
        (now, meeting_id, iso(utcnow() + EARLY_JOIN)),
    )


async def attendees(db: Database, meeting_id: str) -> list[str]:
    rows = await db.fetch_all(
        "SELECT person_id FROM meeting_attendance WHERE meeting_id = ? ORDER BY first_seen_at",
        (meeting_id,),
    )
    return [row["person_id"] for row in rows]


@dataclass(frozen=True)
class Arrival:
    person_id: str
    joined_at: datetime
    minutes_late: int  # 0 when on time or early


async def arrivals(db: Database, meeting: Meeting) -> list[Arrival]:
    """When each person joined the call (or, without call events, opened the panel)."""
    rows = await db.fetch_all(
        "SELECT person_id, COALESCE(joined_call_at, first_seen_at) AS joined"
        " FROM meeting_attendance WHERE meeting_id = ? ORDER BY joined",
        (meeting.id,),
    )
    result = []
    for row in rows:
        joined = datetime.fromisoformat(row["joined"])
        late = (joined - meeting.scheduled_start).total_seconds() / 60
        result.append(Arrival(row["person_id"], joined, max(0, int(late))))
    return result
