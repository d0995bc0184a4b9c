from __future__ import annotations

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import NotFound
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
