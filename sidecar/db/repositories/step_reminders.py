"""The day-before reminders of next steps: which are close to due, and claiming one once.

A (step, due date) is claimed by inserting its row, in a transaction that also holds the email
it enqueues: a worker that dies mid-way leaves no claim behind, and of two workers claiming at
once the second finds the row (on PostgreSQL it waits for the first to commit, then does nothing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sidecar.db.repositories.base import Repository
from sidecar.domain.ids import iso


class DueStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    mentorship_id: str
    text: str
    due_date: date
    owner_id: str
    created_at: datetime
    meeting_id: str | None  # where the panel opens: the next meeting, else the latest


class StepReminderRepository(Repository):
    async def due_between(self, first: date, last: date) -> list[DueStep]:
        """Open, owned steps due in [first, last] not yet reminded of for that date, of
        mentorships not about to be erased."""
        rows = await self.db.fetch_all(
            "SELECT a.id, a.mentorship_id, a.text, a.due_date, a.owner_id, a.created_at,"
            " (SELECT mt.id FROM meetings mt WHERE mt.mentorship_id = a.mentorship_id"
            "  ORDER BY mt.status IN ('scheduled', 'live') DESC,"
            "  CASE WHEN mt.status IN ('scheduled', 'live') THEN mt.scheduled_start END,"
            "  mt.scheduled_start DESC LIMIT 1) AS meeting_id"
            " FROM action_items a"
            " WHERE a.status = 'open' AND a.owner_id IS NOT NULL"
            " AND a.due_date BETWEEN ? AND ?"
            " AND NOT EXISTS (SELECT 1 FROM step_reminders r"
            "  WHERE r.action_item_id = a.id AND r.due_date = a.due_date)"
            " AND NOT EXISTS (SELECT 1 FROM mentorship_erasures e"
            "  WHERE e.mentorship_id = a.mentorship_id)"
            " ORDER BY a.due_date LIMIT 200",
            (first.isoformat(), last.isoformat()),
        )
        return [DueStep.model_validate(row) for row in rows]

    @asynccontextmanager
    async def claim(self, step_id: str, due: date, now: datetime) -> AsyncIterator[bool]:
        """True inside the block when this worker claimed the reminder; the claim commits with
        what the block writes, and an error in the block undoes both."""
        async with self.db.transaction():
            claimed = await self.db.execute(
                "INSERT INTO step_reminders (action_item_id, due_date, claimed_at)"
                " VALUES (?, ?, ?) ON CONFLICT (action_item_id, due_date) DO NOTHING",
                (step_id, due.isoformat(), iso(now)),
            )
            yield claimed > 0

    async def record(self, step_id: str, due: date, outcome: Literal["sent", "skipped"]) -> None:
        await self.db.execute(
            "UPDATE step_reminders SET outcome = ? WHERE action_item_id = ? AND due_date = ?",
            (outcome, step_id, due.isoformat()),
        )
