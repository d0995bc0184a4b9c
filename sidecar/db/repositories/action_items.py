from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import Invalid, NotFound
from sidecar.domain.ids import iso, new_id, now_iso
from sidecar.domain.models import ActionItem

_EDITABLE = frozenset({"text", "owner_id", "due_date", "status", "closed_in_meeting_id"})


class ActionItemRepository(Repository):
    async def list(
        self, mentorship_id: str, *, viewer: str, status: str | None = None
    ) -> list[ActionItem]:
        await self._check_member(mentorship_id, viewer)
        rows = await self.db.fetch_all(
            "SELECT * FROM action_items WHERE mentorship_id = :id"
            " AND (CAST(:status AS TEXT) IS NULL OR status = :status) ORDER BY created_at",
            {"id": mentorship_id, "status": status},
        )
        return [ActionItem.model_validate(row) for row in rows]

    async def get(self, item_id: str, *, viewer: str) -> ActionItem:
        row = await self.db.fetch_one(
            "SELECT a.* FROM action_items a JOIN mentorships m ON m.id = a.mentorship_id"
            f" WHERE a.id = :id AND {IS_MEMBER}",
            {"id": item_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("action item")
        return ActionItem.model_validate(row)

    async def create(
        self,
        mentorship_id: str,
        *,
        text: str,
        owner_id: str | None,
        due_date: date | None,
        created_in_meeting_id: str | None,
        viewer: str,
    ) -> ActionItem:
        item_id, now = new_id(), now_iso()
        async with self.db.transaction():
            await self._check_member(mentorship_id, viewer)
            await self._check_refs(
                mentorship_id, owner_id, created_in_meeting_id, "created_in_meeting_id"
            )
            await self.db.execute(
                "INSERT INTO action_items (id, mentorship_id, text, owner_id, due_date, status,"
                " created_in_meeting_id, created_by, created_at, updated_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                (
                    item_id,
                    mentorship_id,
                    text,
                    owner_id,
                    due_date.isoformat() if due_date else None,
                    created_in_meeting_id,
                    viewer,
                    now,
                    viewer,
                    now,
                ),
            )
        return await self.get(item_id, viewer=viewer)

    async def forget_filed(self, meeting_id: str, *, since: datetime, texts: set[str]) -> int:
        """Take back the next steps a meeting's end filed from its notes (created in it at or
        after `since`, with one of `texts`): the meeting was reopened and will file them again."""
        if not texts:
            return 0
        marks = ", ".join("?" for _ in texts)
        return await self.db.execute(
            "DELETE FROM action_items WHERE created_in_meeting_id = ? AND created_at >= ?"
            f" AND text IN ({marks})",
            (meeting_id, iso(since), *sorted(texts)),
        )

    async def update(self, item_id: str, changes: dict[str, Any], *, viewer: str) -> ActionItem:
        async with self.db.transaction():
            current = await self.get(item_id, viewer=viewer)
            await self._check_refs(
                current.mentorship_id,
                changes.get("owner_id"),
                changes.get("closed_in_meeting_id"),
                "closed_in_meeting_id",
            )
            stored = {k: v.isoformat() if isinstance(v, date) else v for k, v in changes.items()}
            if stored:
                await self._update_row("action_items", {"id": item_id}, stored, _EDITABLE, viewer)
        return await self.get(item_id, viewer=viewer)

    async def delete(self, item_id: str, *, viewer: str) -> ActionItem:
        async with self.db.transaction():
            found = await self.get(item_id, viewer=viewer)
            await self.db.execute("DELETE FROM action_items WHERE id = ?", (item_id,))
        return found

    async def _check_refs(
        self, mentorship_id: str, owner_id: str | None, meeting_id: str | None, meeting_field: str
    ) -> None:
        """An owner must be one of the pair; a meeting must be one of theirs."""
        if owner_id is not None:
            member = await self.db.fetch_value(
                "SELECT 1 FROM mentorships WHERE id = ? AND ? IN (mentor_id, mentee_id)",
                (mentorship_id, owner_id),
            )
            if member is None:
                raise Invalid("owner_id", "must be the mentor or the mentee of this mentorship")
        if meeting_id is not None:
            found = await self.db.fetch_value(
                "SELECT 1 FROM meetings WHERE id = ? AND mentorship_id = ?",
                (meeting_id, mentorship_id),
            )
            if found is None:
                raise Invalid(meeting_field, "must be a meeting of this mentorship")
