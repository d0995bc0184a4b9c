"""Meeting reminders (agenda due, starting soon): planning them, and claiming each one once.

The service acts as itself here: these reads are not a person's. A reminder is claimed by setting
its done_at in a transaction that also holds what handling it writes (its email in the outbox),
so a worker that dies mid-way leaves nothing claimed, and two workers never take the same row:
`FOR UPDATE SKIP LOCKED` on PostgreSQL, BEGIN IMMEDIATE on SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sidecar.db.repositories.base import Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import iso

ReminderKind = Literal["agenda_due", "starting_soon"]


@dataclass(frozen=True)
class PlannedReminder:
    person_id: str
    kind: ReminderKind
    due_at: datetime


@dataclass(frozen=True)
class DueReminder:
    id: int
    kind: ReminderKind
    person_id: str
    meeting_id: str


@dataclass(frozen=True)
class MentorshipPeople:
    """Who a mentorship's reminders go to; either may be missing while an invite is open."""

    mentor_id: str | None
    mentee_id: str | None


class ReminderRepository(Repository):
    async def people_of(self, mentorship_id: str) -> MentorshipPeople:
        row = await self.db.fetch_one(
            "SELECT mentor_id, mentee_id FROM mentorships WHERE id = ?", (mentorship_id,)
        )
        if row is None:
            raise NotFound("mentorship")
        return MentorshipPeople(row["mentor_id"], row["mentee_id"])

    async def plan(self, meeting_id: str, wanted: Sequence[PlannedReminder]) -> None:
        """Add the reminders, or move the ones not yet handled to their new times."""
        async with self.db.transaction():
            for reminder in wanted:
                await self.db.execute(
                    "INSERT INTO reminders (meeting_id, person_id, kind, due_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (meeting_id, person_id, kind)"
                    " DO UPDATE SET due_at = excluded.due_at WHERE reminders.done_at IS NULL",
                    (meeting_id, reminder.person_id, reminder.kind, iso(reminder.due_at)),
                )

    async def drop_pending(self, meeting_id: str) -> int:
        """Forget the reminders of a meeting that have not been handled; returns how many."""
        return await self.db.execute(
            "DELETE FROM reminders WHERE meeting_id = ? AND done_at IS NULL", (meeting_id,)
        )

    @asynccontextmanager
    async def claim_next_due(self, now: datetime) -> AsyncIterator[DueReminder | None]:
        """The earliest reminder due at `now`, claimed for this worker, or None when none is.

        The claim commits with what the block writes, when the block ends; an error in the
        block undoes both, and the reminder is due again.
        """
        async with self.db.transaction():
            row = await self.db.fetch_one(
                "SELECT id, kind, person_id, meeting_id FROM reminders"
                " WHERE done_at IS NULL AND due_at <= ?"
                f" ORDER BY due_at, id LIMIT 1{self.db.skip_locked}",
                (iso(now),),
            )
            if row is None:
                yield None
                return
            await self.db.execute(
                "UPDATE reminders SET done_at = ? WHERE id = ?", (iso(now), row["id"])
            )
            yield DueReminder(
                id=int(row["id"]),
                kind=cast(ReminderKind, row["kind"]),
                person_id=str(row["person_id"]),
                meeting_id=str(row["meeting_id"]),
            )

    async def record_outcome(self, reminder_id: int, outcome: Literal["sent", "skipped"]) -> None:
        await self.db.execute(
            "UPDATE reminders SET outcome = ? WHERE id = ?", (outcome, reminder_id)
        )
