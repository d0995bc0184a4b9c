from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.db.search import (
    MatchExpression,
    SearchRow,
    indexable_on_postgres,
    search_ended,
)
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import now_iso
from sidecar.domain.models import Summary


@dataclass(frozen=True)
class SummaryDelivery:
    """One person's latest summary email, as the outbox has it."""

    person_id: str | None
    recipient: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class SummaryRepository(Repository):
    async def get(self, meeting_id: str, *, viewer: str) -> Summary:
        """The summary as the viewer was sent it (their own time zone), when their copy exists;
        else the shared copy (meetings ended before copies were kept)."""
        row = await self.db.fetch_one(
            "SELECT s.meeting_id, COALESCE(c.body_markdown, s.body_markdown) AS body_markdown,"
            " s.created_by, s.created_at, s.updated_by, s.updated_at, s.revision"
            " FROM summaries s JOIN meetings mt ON mt.id = s.meeting_id"
            " JOIN mentorships m ON m.id = mt.mentorship_id"
            " LEFT JOIN summary_copies c ON c.meeting_id = s.meeting_id AND c.person_id = :viewer"
            f" WHERE s.meeting_id = :id AND {IS_MEMBER}",
            {"id": meeting_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("summary")
        return Summary.model_validate(row)

    async def save(
        self, meeting_id: str, body_markdown: str, *, author: str | None, revision: int = 1
    ) -> Summary:
        """Write (or rewrite) a meeting's summary; `author` None means the service wrote it.
        `revision` counts the ends that wrote it (2 and up: after the meeting was reopened)."""
        now = now_iso()
        await self.db.execute(
            "INSERT INTO summaries (meeting_id, body_markdown, created_by, created_at, updated_by,"
            " updated_at, revision) VALUES (:id, :body, :author, :now, :author, :now, :revision)"
            " ON CONFLICT (meeting_id) DO UPDATE SET body_markdown = :body, updated_by = :author,"
            " updated_at = :now, revision = :revision",
            {
                "id": meeting_id,
                "body": body_markdown,
                "author": author,
                "now": now,
                "revision": revision,
            },
        )
        row = await self.db.fetch_one("SELECT * FROM summaries WHERE meeting_id = ?", (meeting_id,))
        return Summary.model_validate(row)

    async def revision_of(self, meeting_id: str) -> int | None:
        """Which end wrote the meeting's summary (1: the first), None before it has one."""
        value = await self.db.fetch_value(
            "SELECT revision FROM summaries WHERE meeting_id = ?", (meeting_id,)
        )
        return None if value is None else int(value)

    async def deliveries(self, meeting_id: str) -> list[SummaryDelivery]:
        """Each person's latest summary email (after a reopen, the corrected one); the caller
        has checked the meeting is the viewer's."""
        rows = await self.db.fetch_all(
            "SELECT person_id, recipient, attempts, last_error, sent_at FROM outbox"
            " WHERE id IN (SELECT MAX(id) FROM outbox WHERE meeting_id = ? AND kind = 'summary'"
            " GROUP BY person_id) ORDER BY id",
            (meeting_id,),
        )
        return [
            SummaryDelivery(
                person_id=row["person_id"],
                recipient=str(row["recipient"]),
                attempts=int(row["attempts"]),
                last_error=row["last_error"],
                sent_at=datetime.fromisoformat(row["sent_at"]) if row["sent_at"] else None,
            )
            for row in rows
        ]

    async def save_copy(self, meeting_id: str, person_id: str, body_markdown: str) -> None:
        """One person's copy of a saved summary, with every time in their time zone."""
        await self.db.execute(
            "INSERT INTO summary_copies (meeting_id, person_id, body_markdown) VALUES (?, ?, ?)"
            " ON CONFLICT (meeting_id, person_id)"
            " DO UPDATE SET body_markdown = excluded.body_markdown",
            (meeting_id, person_id, body_markdown),
        )

    async def index_for_search(
        self, meeting_id: str, mentorship_id: str, *, title: str, summary: str, notes: str
    ) -> None:
        """Make an ended meeting findable (FTS5 on SQLite, a tsvector on PostgreSQL: see
        sidecar/db/search.py); ended again after a reopen, its entry is replaced."""
        if self.db.dialect == "postgresql":  # no NUL in a text; a tsvector holds 1 MiB at most
            title = indexable_on_postgres(title, "title")
            summary = indexable_on_postgres(summary, "summary")
            notes = indexable_on_postgres(notes, "notes")
        await self.db.execute("DELETE FROM meeting_search WHERE meeting_id = ?", (meeting_id,))
        await self.db.execute(
            "INSERT INTO meeting_search (meeting_id, mentorship_id, title, summary, notes)"
            " VALUES (?, ?, ?, ?, ?)",
            (meeting_id, mentorship_id, title, summary, notes),
        )

    async def search(
        self, mentorship_id: str, expression: MatchExpression, *, viewer: str
    ) -> list[SearchRow]:
        """The pair's ended meetings that match, best first (sidecar/db/search.py)."""
        return await search_ended(self.db, mentorship_id, expression, viewer=viewer)
