"""Agreements written down in the panel during a meeting."""

from __future__ import annotations

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.db.repositories.meetings import MeetingRepository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import new_id, now_iso
from sidecar.domain.models import MeetingAgreement


class MeetingAgreementRepository(Repository):
    async def list(self, meeting_id: str, *, viewer: str) -> list[MeetingAgreement]:
        rows = await self.db.fetch_all(
            "SELECT a.* FROM meeting_agreements a JOIN meetings mt ON mt.id = a.meeting_id"
            " JOIN mentorships m ON m.id = mt.mentorship_id"
            f" WHERE a.meeting_id = :id AND {IS_MEMBER} ORDER BY a.created_at",
            {"id": meeting_id, "viewer": viewer},
        )
        return [MeetingAgreement.model_validate(row) for row in rows]

    async def get(self, agreement_id: str, *, viewer: str) -> MeetingAgreement:
        row = await self.db.fetch_one(
            "SELECT a.* FROM meeting_agreements a JOIN meetings mt ON mt.id = a.meeting_id"
            f" JOIN mentorships m ON m.id = mt.mentorship_id WHERE a.id = :id AND {IS_MEMBER}",
            {"id": agreement_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("agreement")
        return MeetingAgreement.model_validate(row)

    async def add(self, meeting_id: str, text: str, *, viewer: str) -> MeetingAgreement:
        agreement_id, now = new_id(), now_iso()
        async with self.db.transaction():
            await MeetingRepository(self.db).get(meeting_id, viewer=viewer)
            await self.db.execute(
                "INSERT INTO meeting_agreements (id, meeting_id, text, created_by, created_at,"
                " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (agreement_id, meeting_id, text, viewer, now, viewer, now),
            )
        return await self.get(agreement_id, viewer=viewer)

    async def update(self, agreement_id: str, text: str, *, viewer: str) -> MeetingAgreement:
        async with self.db.transaction():
            await self.get(agreement_id, viewer=viewer)
            await self._update_row(
                "meeting_agreements",
                {"id": agreement_id},
                {"text": text},
                frozenset({"text"}),
                viewer,
            )
        return await self.get(agreement_id, viewer=viewer)

    async def delete(self, agreement_id: str, *, viewer: str) -> MeetingAgreement:
        async with self.db.transaction():
            found = await self.get(agreement_id, viewer=viewer)
            await self.db.execute("DELETE FROM meeting_agreements WHERE id = ?", (agreement_id,))
        return found
