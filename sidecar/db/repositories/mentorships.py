"""Mentorships, their agreement, and the invite that brings in the second person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import Conflict, NotFound
from sidecar.domain.ids import hash_secret, iso, new_id, new_secret, now_iso, utcnow
from sidecar.domain.models import (
    REVISIT_AGREEMENT_EVERY,
    Agreement,
    Invite,
    Mentorship,
    Role,
)

INVITE_PREFIX = "msi"
AGREEMENT_FIELDS = frozenset(
    {
        "meeting_cadence",
        "communication_channels",
        "communication_frequency",
        "confidentiality",
        "feedback_and_encouragement",
        "objectives",
        "cultural_differences",
    }
)
DEFAULT_CADENCE = "Weekly for the first six weeks, then every two weeks."


def other_role(role: Role) -> Role:
    return "mentee" if role == "mentor" else "mentor"


class MentorshipRepository(Repository):
    async def create(self, creator_id: str, role: Role, title: str) -> Mentorship:
        mentorship_id, now = new_id(), now_iso()
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO mentorships (id, title, mentor_id, mentee_id, created_by, created_at,"
                " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    mentorship_id,
                    title,
                    creator_id if role == "mentor" else None,
                    creator_id if role == "mentee" else None,
                    creator_id,
                    now,
                    creator_id,
                    now,
                ),
            )
            await self.db.execute(
                "INSERT INTO agreements (mentorship_id, meeting_cadence, updated_by, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (mentorship_id, DEFAULT_CADENCE, creator_id, now),
            )
        return await self.get(mentorship_id, viewer=creator_id)

    async def get(self, mentorship_id: str, *, viewer: str) -> Mentorship:
        row = await self.db.fetch_one(
            f"SELECT m.* FROM mentorships m WHERE m.id = :id AND {IS_MEMBER}",
            {"id": mentorship_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("mentorship")
        return Mentorship.model_validate(row)

    async def list_for(self, viewer: str) -> list[Mentorship]:
        rows = await self.db.fetch_all(
            f"SELECT m.* FROM mentorships m WHERE {IS_MEMBER} ORDER BY m.created_at",
            {"viewer": viewer},
        )
        return [Mentorship.model_validate(row) for row in rows]

    async def agreement(self, mentorship_id: str, *, viewer: str) -> Agreement:
        row = await self.db.fetch_one(
            "SELECT a.* FROM agreements a JOIN mentorships m ON m.id = a.mentorship_id"
            f" WHERE a.mentorship_id = :id AND {IS_MEMBER}",
            {"id": mentorship_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("mentorship")
        row.pop("mentorship_id")
        confirmations = await self.db.fetch_all(
            "SELECT person_id, confirmed_at FROM agreement_confirmations"
            " WHERE mentorship_id = ? AND version = ? ORDER BY confirmed_at",
            (mentorship_id, row["version"]),
        )
        both = len(confirmations) == 2
        revisit = False
        if both:
            # Meetings held since the later of the two confirmations.
            held = await self.db.fetch_value(
                "SELECT COUNT(*) FROM meetings WHERE mentorship_id = ? AND status = 'ended'"
                " AND ended_at > ?",
                (mentorship_id, confirmations[-1]["confirmed_at"]),
            )
            revisit = held >= REVISIT_AGREEMENT_EVERY
        return Agreement.model_validate(
            row
            | {"confirmations": confirmations, "confirmed_by_both": both, "revisit_due": revisit}
        )

    async def confirm_agreement(self, mentorship_id: str, *, viewer: str) -> Agreement:
        """The viewer agrees to the agreement as it stands now."""
        async with self.db.transaction():
            current = await self.agreement(mentorship_id, viewer=viewer)
            await self.db.execute(
                "INSERT INTO agreement_confirmations (mentorship_id, person_id, version,"
                " confirmed_at) VALUES (?, ?, ?, ?) ON CONFLICT (mentorship_id, person_id)"
                " DO UPDATE SET version = excluded.version, confirmed_at = excluded.confirmed_at",
                (mentorship_id, viewer, current.version, now_iso()),
            )
        return await self.agreement(mentorship_id, viewer=viewer)

    async def update_agreement(
        self, mentorship_id: str, changes: dict[str, Any], *, viewer: str
    ) -> Agreement:
        async with self.db.transaction():
            current = await self.agreement(mentorship_id, viewer=viewer)
            changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
            if changed:
                # A new version: confirmations of the old one no longer count.
                changed["version"] = current.version + 1
                await self._update_row(
                    "agreements",
                    {"mentorship_id": mentorship_id},
                    changed,
                    AGREEMENT_FIELDS | {"version"},
                    viewer,
                )
        return await self.agreement(mentorship_id, viewer=viewer)

    async def update(
        self, mentorship_id: str, changes: dict[str, Any], *, viewer: str
    ) -> Mentorship:
        async with self.db.transaction():
            await self.get(mentorship_id, viewer=viewer)
            if changes:
                await self._update_row(
                    "mentorships",
                    {"id": mentorship_id},
                    changes,
                    frozenset({"title", "summary_webhook_url"}),
                    viewer,
                )
        return await self.get(mentorship_id, viewer=viewer)

    async def create_invite(
        self, mentorship_id: str, lifetime: timedelta, *, viewer: str
    ) -> tuple[str, Invite]:
        """A fresh invite for the vacant role; earlier pending invites stop working."""
        code = new_secret(INVITE_PREFIX)
        async with self.db.transaction():
            mentorship = await self.get(mentorship_id, viewer=viewer)
            if mentorship.mentor_id and mentorship.mentee_id:
                raise Conflict("both places in this mentorship are taken")
            role: Role = "mentee" if mentorship.mentor_id else "mentor"
            now = now_iso()
            await self.db.execute(
                "UPDATE invites SET expires_at = ? WHERE mentorship_id = ? AND accepted_at IS NULL"
                " AND expires_at > ?",
                (now, mentorship_id, now),
            )
            await self.db.execute(
                "INSERT INTO invites (code_hash, mentorship_id, role, created_by, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (hash_secret(code), mentorship_id, role, viewer, now, iso(utcnow() + lifetime)),
            )
        return code, await self.invite(code)

    async def invite(self, code: str) -> Invite:
        """A pending, unexpired invite; anything else is NotFound."""
        row = await self.db.fetch_one(
            "SELECT mentorship_id, role, created_by, created_at, expires_at, accepted_by,"
            " accepted_at FROM invites WHERE code_hash = ? AND accepted_at IS NULL"
            " AND expires_at > ?",
            (hash_secret(code), now_iso()),
        )
        if row is None:
            raise NotFound("invite")
        return Invite.model_validate(row)

    async def title_of(self, mentorship_id: str) -> str:
        """For the invite preview only, shown to someone holding a valid invite code."""
        return str(
            await self.db.fetch_value(
                "SELECT title FROM mentorships WHERE id = ?", (mentorship_id,)
            )
        )

    async def has_pending_invite(self, mentorship_id: str) -> bool:
        found = await self.db.fetch_value(
            "SELECT 1 FROM invites WHERE mentorship_id = ? AND accepted_at IS NULL"
            " AND expires_at > ?",
            (mentorship_id, now_iso()),
        )
        return found is not None

    async def accept_invite(self, code: str, person_id: str) -> Mentorship:
        async with self.db.transaction():
            invite = await self.invite(code)
            column = "mentor_id" if invite.role == "mentor" else "mentee_id"
            other = "mentee_id" if invite.role == "mentor" else "mentor_id"
            current = await self.db.fetch_one(
                f"SELECT {other} AS other FROM mentorships WHERE id = ?", (invite.mentorship_id,)
            )
            if current is not None and current["other"] == person_id:
                raise Conflict("you already belong to this mentorship in the other role")
            now = now_iso()
            changed = await self.db.execute(
                f"UPDATE mentorships SET {column} = ?, updated_by = ?, updated_at = ?"
                f" WHERE id = ? AND {column} IS NULL",
                (person_id, person_id, now, invite.mentorship_id),
            )
            if not changed:
                raise Conflict("this place in the mentorship is already taken")
            await self.db.execute(
                "UPDATE invites SET accepted_by = ?, accepted_at = ? WHERE code_hash = ?",
                (person_id, now, hash_secret(code)),
            )
        return await self.get(invite.mentorship_id, viewer=person_id)
