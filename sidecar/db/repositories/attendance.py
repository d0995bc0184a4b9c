"""Who was at a meeting: panel opens and call joins/leaves, one row per person and meeting.

The windows (what counts as being at the meeting) are decided in sidecar/summary/attendance.py;
these methods take them as explicit times and are the service reading and writing as itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sidecar.db.repositories.base import Repository

# Who was at the meeting: in the call, or with the panel open since `:around`.
_PRESENT = "meeting_id = :meeting AND (joined_call_at IS NOT NULL OR last_seen_at >= :around)"


@dataclass(frozen=True)
class Arrival:
    person_id: str
    joined_at: datetime


class AttendanceRepository(Repository):
    async def seen(self, meeting_id: str, person_id: str, *, at: str, around: str) -> None:
        """A panel opened or closed at `at`; its first opening since `around` is the arrival."""
        await self.db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at)"
            " VALUES (:meeting, :person, :now, :now) ON CONFLICT (meeting_id, person_id)"
            " DO UPDATE SET last_seen_at = excluded.last_seen_at,"
            " first_seen_at = CASE WHEN meeting_attendance.last_seen_at < :around"
            " AND excluded.last_seen_at >= :around THEN excluded.first_seen_at"
            " ELSE meeting_attendance.first_seen_at END",
            {"meeting": meeting_id, "person": person_id, "now": at, "around": around},
        )

    async def joined_call(self, meeting_id: str, person_id: str, *, at: str, source: str) -> None:
        """The earliest join is kept: events arrive more than once and out of order."""
        # Scalar max/min of two values: SQLite's max()/min(), PostgreSQL's GREATEST/LEAST.
        greatest, least = self._greatest_least()
        await self.db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at,"
            " joined_call_at, call_source) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (meeting_id, person_id) DO UPDATE SET"
            f" last_seen_at = {greatest}(meeting_attendance.last_seen_at, excluded.last_seen_at),"
            f" joined_call_at = {least}(COALESCE(meeting_attendance.joined_call_at,"
            " excluded.joined_call_at), excluded.joined_call_at),"
            " call_source = COALESCE(meeting_attendance.call_source, excluded.call_source)",
            (meeting_id, person_id, at, at, at, source),
        )

    async def left_call(self, meeting_id: str, person_id: str, *, at: str, source: str) -> None:
        """The latest leave is kept (a person may rejoin and leave again)."""
        greatest, _ = self._greatest_least()
        await self.db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at,"
            " left_call_at, call_source) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (meeting_id, person_id) DO UPDATE SET"
            f" last_seen_at = {greatest}(meeting_attendance.last_seen_at, excluded.last_seen_at),"
            f" left_call_at = {greatest}(COALESCE(meeting_attendance.left_call_at, ''),"
            " excluded.left_call_at),"
            " call_source = COALESCE(meeting_attendance.call_source, excluded.call_source)",
            (meeting_id, person_id, at, at, at, source),
        )

    def _greatest_least(self) -> tuple[str, str]:
        if self.db.dialect == "postgresql":
            return "GREATEST", "LEAST"
        return "max", "min"

    async def anyone_joined(self, meeting_id: str, *, window_start: str, window_end: str) -> bool:
        """Anyone in the call, or with the panel open at some time in the window."""
        found = await self.db.fetch_value(
            "SELECT 1 FROM meeting_attendance WHERE meeting_id = ? AND (joined_call_at IS NOT NULL"
            " OR (first_seen_at <= ? AND last_seen_at >= ?)) LIMIT 1",
            (meeting_id, window_end, window_start),
        )
        return found is not None

    async def attendees(self, meeting_id: str, *, around: str) -> list[str]:
        rows = await self.db.fetch_all(
            f"SELECT person_id FROM meeting_attendance WHERE {_PRESENT} ORDER BY first_seen_at",
            {"meeting": meeting_id, "around": around},
        )
        return [str(row["person_id"]) for row in rows]

    async def arrivals(self, meeting_id: str, *, around: str) -> list[Arrival]:
        """When each person joined the call (or, without call events, opened the panel)."""
        rows = await self.db.fetch_all(
            "SELECT person_id, COALESCE(joined_call_at, first_seen_at) AS joined"
            f" FROM meeting_attendance WHERE {_PRESENT} ORDER BY joined, person_id",
            {"meeting": meeting_id, "around": around},
        )
        return [
            Arrival(str(row["person_id"]), datetime.fromisoformat(row["joined"])) for row in rows
        ]

    async def last_seen(self, meeting_id: str, *, around: str) -> str | None:
        """When the last person present left (their panel or the call)."""
        row = await self.db.fetch_one(
            "SELECT MAX(last_seen_at) AS seen, MAX(left_call_at) AS left_call"
            f" FROM meeting_attendance WHERE {_PRESENT}",
            {"meeting": meeting_id, "around": around},
        )
        if row is None:
            return None
        latest = max((str(v) for v in (row["seen"], row["left_call"]) if v), default="")
        return latest or None
