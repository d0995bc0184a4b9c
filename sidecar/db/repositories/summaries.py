from __future__ import annotations

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import now_iso
from sidecar.domain.models import Summary


class SummaryRepository(Repository):
    async def get(self, meeting_id: str, *, viewer: str) -> Summary:
        row = await self.db.fetch_one(
            "SELECT s.* FROM summaries s JOIN meetings mt ON mt.id = s.meeting_id"
            f" JOIN mentorships m ON m.id = mt.mentorship_id WHERE s.meeting_id = :id"
            f" AND {IS_MEMBER}",
            {"id": meeting_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("summary")
        return Summary.model_validate(row)

    async def save(self, meeting_id: str, body_markdown: str, *, author: str | None) -> Summary:
        """Write (or rewrite) a meeting's summary; `author` None means the service wrote it."""
        now = now_iso()
        await self.db.execute(
            "INSERT INTO summaries (meeting_id, body_markdown, created_by, created_at, updated_by,"
            " updated_at) VALUES (:id, :body, :author, :now, :author, :now)"
            " ON CONFLICT (meeting_id) DO UPDATE SET body_markdown = :body, updated_by = :author,"
            " updated_at = :now",
            {"id": meeting_id, "body": body_markdown, "author": author, "now": now},
        )
        row = await self.db.fetch_one("SELECT * FROM summaries WHERE meeting_id = ?", (meeting_id,))
        return Summary.model_validate(row)
