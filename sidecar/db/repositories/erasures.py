"""Erasures waiting out their grace period: of a mentorship, and of a person's whole profile.

A row is claimed once (claimed_at) by the worker that erases it. A claim older than
`STALE_CLAIM` (by the clock, whatever `now` a caller asks about) is taken again, so an erasure
cut short by a crash is finished after a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sidecar.db.repositories.base import Repository
from sidecar.domain.ids import iso, now_iso, utcnow

STALE_CLAIM = timedelta(minutes=10)
Reason = Literal["mentorship", "profile"]


class MentorshipErasure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mentorship_id: str
    requested_by: str
    requested_at: datetime
    erase_after: datetime
    reason: Reason
    claimed_at: datetime | None


class ProfileErasure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str
    requested_at: datetime
    erase_after: datetime
    claimed_at: datetime | None


class ErasureRepository(Repository):
    # --- mentorships ---------------------------------------------------------------------------

    async def schedule_mentorship(
        self, mentorship_id: str, requested_by: str, erase_after: datetime, reason: Reason
    ) -> MentorshipErasure:
        """Plan the erasure; one already planned keeps its (earlier) date, but a profile's
        erasure takes it over, so only the person leaving can undo it."""
        await self.db.execute(
            "INSERT INTO mentorship_erasures (mentorship_id, requested_by, requested_at,"
            " erase_after, reason) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (mentorship_id) DO UPDATE SET reason = excluded.reason,"
            " requested_by = excluded.requested_by WHERE excluded.reason = 'profile'",
            (mentorship_id, requested_by, now_iso(), iso(erase_after), reason),
        )
        found = await self.mentorship(mentorship_id)
        assert found is not None
        return found

    async def mentorship(self, mentorship_id: str) -> MentorshipErasure | None:
        row = await self.db.fetch_one(
            "SELECT * FROM mentorship_erasures WHERE mentorship_id = ?", (mentorship_id,)
        )
        return MentorshipErasure.model_validate(row) if row else None

    async def of_person(self, person_id: str) -> dict[str, MentorshipErasure]:
        """The planned erasures of a person's mentorships, by mentorship id."""
        rows = await self.db.fetch_all(
            "SELECT e.* FROM mentorship_erasures e JOIN mentorships m ON m.id = e.mentorship_id"
            " WHERE ? IN (m.mentor_id, m.mentee_id)",
            (person_id,),
        )
        return {row["mentorship_id"]: MentorshipErasure.model_validate(row) for row in rows}

    async def cancel_mentorship(self, mentorship_id: str) -> bool:
        """Undo, unless the worker has already begun erasing it."""
        return bool(
            await self.db.execute(
                "DELETE FROM mentorship_erasures WHERE mentorship_id = ? AND claimed_at IS NULL",
                (mentorship_id,),
            )
        )

    async def due_mentorships(self, now: datetime) -> list[str]:
        rows = await self.db.fetch_all(
            "SELECT mentorship_id FROM mentorship_erasures WHERE erase_after <= ?"
            " AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY erase_after LIMIT 50",
            (iso(now), iso(utcnow() - STALE_CLAIM)),
        )
        return [row["mentorship_id"] for row in rows]

    async def claim_mentorship(self, mentorship_id: str, now: datetime) -> bool:
        return bool(
            await self.db.execute(
                "UPDATE mentorship_erasures SET claimed_at = ? WHERE mentorship_id = ?"
                " AND erase_after <= ? AND (claimed_at IS NULL OR claimed_at < ?)",
                (iso(utcnow()), mentorship_id, iso(now), iso(utcnow() - STALE_CLAIM)),
            )
        )

    # --- profiles ------------------------------------------------------------------------------

    async def schedule_profile(self, person_id: str, erase_after: datetime) -> ProfileErasure:
        await self.db.execute(
            "INSERT INTO profile_erasures (person_id, requested_at, erase_after)"
            " VALUES (?, ?, ?) ON CONFLICT (person_id) DO NOTHING",
            (person_id, now_iso(), iso(erase_after)),
        )
        found = await self.profile(person_id)
        assert found is not None
        return found

    async def profile(self, person_id: str) -> ProfileErasure | None:
        row = await self.db.fetch_one(
            "SELECT * FROM profile_erasures WHERE person_id = ?", (person_id,)
        )
        return ProfileErasure.model_validate(row) if row else None

    async def cancel_profile(self, person_id: str) -> bool:
        """Undo the profile's erasure and the erasures of mentorships it brought with it."""
        async with self.db.transaction():
            cancelled = await self.db.execute(
                "DELETE FROM profile_erasures WHERE person_id = ? AND claimed_at IS NULL",
                (person_id,),
            )
            if cancelled:
                await self.db.execute(
                    "DELETE FROM mentorship_erasures WHERE requested_by = ?"
                    " AND reason = 'profile' AND claimed_at IS NULL",
                    (person_id,),
                )
        return bool(cancelled)

    async def due_profiles(self, now: datetime) -> list[str]:
        rows = await self.db.fetch_all(
            "SELECT person_id FROM profile_erasures WHERE erase_after <= ?"
            " AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY erase_after LIMIT 50",
            (iso(now), iso(utcnow() - STALE_CLAIM)),
        )
        return [row["person_id"] for row in rows]

    async def claim_profile(self, person_id: str, now: datetime) -> bool:
        return bool(
            await self.db.execute(
                "UPDATE profile_erasures SET claimed_at = ? WHERE person_id = ?"
                " AND erase_after <= ? AND (claimed_at IS NULL OR claimed_at < ?)",
                (iso(utcnow()), person_id, iso(now), iso(utcnow() - STALE_CLAIM)),
            )
        )

    async def mentorship_ids_of(self, person_id: str) -> list[str]:
        rows = await self.db.fetch_all(
            "SELECT id FROM mentorships WHERE ? IN (mentor_id, mentee_id)", (person_id,)
        )
        return [row["id"] for row in rows]

    async def delete_person(self, person_id: str) -> None:
        """The person's own rows go with theirs by ON DELETE CASCADE (tokens, photo, feeds)."""
        await self.db.execute("DELETE FROM people WHERE id = ?", (person_id,))
