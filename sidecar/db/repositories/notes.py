"""What the live notes read besides their updates (which the notes stores in sidecar/db/notes/
commit and load): the zone a meeting's notes are dated in, and what is stored per meeting."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.db.repositories.base import Repository


@dataclass(frozen=True)
class StoredNoteRow:
    is_snapshot: bool  # a compaction's merge of the rows before it
    size: int  # bytes


class NotesRepository(Repository):
    async def heading_timezone(self, mentorship_id: str) -> str:
        """Where the mentee lives (the mentor's zone before anyone accepted): the zone of the
        date in a new meeting's heading. UTC for a mentorship not found."""
        zone = await self.db.fetch_value(
            "SELECT p.timezone FROM mentorships m JOIN people p"
            " ON p.id = COALESCE(m.mentee_id, m.mentor_id) WHERE m.id = ?",
            (mentorship_id,),
        )
        return str(zone or "UTC")

    async def stored_rows(self, meeting_id: str) -> list[StoredNoteRow]:
        """A meeting's stored rows in order: how far compaction has merged its history (the
        filed rows, then the newest, which SQLite's store commits to a table of their own)."""
        rows = await self.db.fetch_all(
            "SELECT is_snapshot, size FROM ("
            "SELECT 0 AS recent, id, is_snapshot, length(data) AS size FROM note_updates"
            " WHERE meeting_id = ? UNION ALL SELECT 1, id, 0, length(data)"
            " FROM note_updates_recent WHERE meeting_id = ?) AS stored ORDER BY recent, id",
            (meeting_id, meeting_id),
        )
        return [StoredNoteRow(bool(row["is_snapshot"]), int(row["size"])) for row in rows]
