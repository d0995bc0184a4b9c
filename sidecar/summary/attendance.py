"""Who joined a meeting: recorded when a panel socket opens and closes; the first join makes the
meeting live."""

from __future__ import annotations

from datetime import timedelta

from sidecar.db import Database
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.domain.models import Meeting

# Opening the panel this long before the start counts as joining the call.
EARLY_JOIN = timedelta(minutes=15)


async def seen(db: Database, meeting: Meeting, person_id: str) -> None:
    now = now_iso()
    async with db.transaction():
        await db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (meeting_id, person_id)"
            " DO UPDATE SET last_seen_at = excluded.last_seen_at",
            (meeting.id, person_id, now, now),
        )
        await db.execute(
            "UPDATE meetings SET status = 'live', started_at = COALESCE(started_at, ?)"
            " WHERE id = ? AND status = 'scheduled' AND scheduled_start <= ?",
            (now, meeting.id, iso(utcnow() + EARLY_JOIN)),
        )


async def attendees(db: Database, meeting_id: str) -> list[str]:
    rows = await db.fetch_all(
        "SELECT person_id FROM meeting_attendance WHERE meeting_id = ? ORDER BY first_seen_at",
        (meeting_id,),
    )
    return [row["person_id"] for row in rows]
