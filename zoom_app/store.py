"""All of the Zoom App's SQL: linked accounts, link codes, meeting links, stored events.

Reads of a pair's data go through membership in SQL, as in sidecar.db.repositories: a person who
is not a member of a mentorship gets NotFound, as for one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.domain.models import Meeting


@dataclass(frozen=True)
class ZoomAccount:
    person_id: str
    zoom_user_id: str
    zoom_email: str
    tokens: bytes | None  # sealed; see zoom_app.crypto.Sealer
    token_expires_at: datetime | None
    scope: str
    linked_at: datetime


@dataclass(frozen=True)
class StoredEvent:
    id: int
    event: str
    body: dict[str, Any]
    attempts: int


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def event_key(event: str, payload: Any) -> str:
    """Zoom re-sends an event with a new timestamp; the payload is what identifies it."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return f"{event}:{hashlib.sha256(canonical.encode()).hexdigest()}"


class ZoomStore(Repository):
    # --- accounts -----------------------------------------------------------------------------

    async def link_account(
        self,
        person_id: str,
        *,
        zoom_user_id: str,
        zoom_email: str,
        tokens: bytes | None,
        token_expires_at: datetime | None,
        scope: str,
    ) -> ZoomAccount:
        """Link (or re-link) a person to a Zoom user; the Zoom user leaves any earlier person."""
        now = now_iso()
        expires = iso(token_expires_at) if token_expires_at else None
        async with self.db.transaction():
            await self.db.execute(
                "DELETE FROM zoom_accounts WHERE zoom_user_id = ? AND person_id != ?",
                (zoom_user_id, person_id),
            )
            await self.db.execute(
                "INSERT INTO zoom_accounts (person_id, zoom_user_id, zoom_email, tokens,"
                " token_expires_at, scope, linked_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (person_id) DO UPDATE SET zoom_user_id = excluded.zoom_user_id,"
                " zoom_email = excluded.zoom_email, tokens = excluded.tokens,"
                " token_expires_at = excluded.token_expires_at, scope = excluded.scope,"
                " updated_at = excluded.updated_at",
                (person_id, zoom_user_id, zoom_email, tokens, expires, scope, now, now),
            )
        return await self.account(person_id)

    async def account(self, person_id: str) -> ZoomAccount:
        row = await self.db.fetch_one(
            "SELECT * FROM zoom_accounts WHERE person_id = ?", (person_id,)
        )
        if row is None:
            raise NotFound("zoom account")
        return _account(row)

    async def person_for_zoom_user(self, zoom_user_id: str) -> str | None:
        value = await self.db.fetch_value(
            "SELECT person_id FROM zoom_accounts WHERE zoom_user_id = ?", (zoom_user_id,)
        )
        return None if value is None else str(value)

    async def save_tokens(
        self, person_id: str, tokens: bytes, expires_at: datetime, scope: str
    ) -> None:
        await self.db.execute(
            "UPDATE zoom_accounts SET tokens = ?, token_expires_at = ?, scope = ?, updated_at = ?"
            " WHERE person_id = ?",
            (tokens, iso(expires_at), scope, now_iso(), person_id),
        )

    async def update_email(self, person_id: str, email: str) -> None:
        await self.db.execute(
            "UPDATE zoom_accounts SET zoom_email = ?, updated_at = ? WHERE person_id = ?",
            (email, now_iso(), person_id),
        )

    async def unlink(self, person_id: str) -> None:
        await self.db.execute("DELETE FROM zoom_accounts WHERE person_id = ?", (person_id,))

    # --- link codes ---------------------------------------------------------------------------

    async def create_link_code(self, person_id: str, code: str, lifetime: timedelta) -> datetime:
        expires = utcnow() + lifetime
        await self.db.execute(
            "INSERT INTO zoom_link_codes (code_hash, person_id, expires_at) VALUES (?, ?, ?)",
            (_code_hash(code), person_id, iso(expires)),
        )
        return expires

    async def redeem_link_code(self, code: str) -> str:
        """The person a live, unused code belongs to; the code is used up."""
        async with self.db.transaction():
            row = await self.db.fetch_one(
                "SELECT person_id FROM zoom_link_codes WHERE code_hash = ? AND used_at IS NULL"
                " AND expires_at > ?",
                (_code_hash(code), now_iso()),
            )
            if row is None:
                raise NotFound("link code")
            await self.db.execute(
                "UPDATE zoom_link_codes SET used_at = ? WHERE code_hash = ?",
                (now_iso(), _code_hash(code)),
            )
        return str(row["person_id"])

    # --- meeting links ------------------------------------------------------------------------

    async def link_meeting(self, zoom_meeting_id: str, mentorship_id: str, *, viewer: str) -> None:
        now = now_iso()
        async with self.db.transaction():
            await self._check_member(mentorship_id, viewer)
            await self.db.execute(
                "INSERT INTO zoom_meeting_links (zoom_meeting_id, mentorship_id, linked_by,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (zoom_meeting_id, mentorship_id) DO UPDATE SET"
                " linked_by = excluded.linked_by, updated_at = excluded.updated_at",
                (zoom_meeting_id, mentorship_id, viewer, now, now),
            )

    async def linked_mentorship(self, zoom_meeting_id: str, *, viewer: str) -> str | None:
        """The viewer's mentorship this Zoom meeting was last linked to, if any."""
        value = await self.db.fetch_value(
            "SELECT l.mentorship_id FROM zoom_meeting_links l JOIN mentorships m"
            f" ON m.id = l.mentorship_id WHERE l.zoom_meeting_id = :zoom AND {IS_MEMBER}"
            " ORDER BY l.updated_at DESC LIMIT 1",
            {"zoom": zoom_meeting_id, "viewer": viewer},
        )
        return None if value is None else str(value)

    async def mentorships_linked_to(self, zoom_meeting_id: str) -> list[str]:
        """For the webhook, which has no viewer: every mentorship linked to this Zoom meeting."""
        rows = await self.db.fetch_all(
            "SELECT mentorship_id FROM zoom_meeting_links WHERE zoom_meeting_id = ?"
            " ORDER BY updated_at DESC",
            (zoom_meeting_id,),
        )
        return [str(row["mentorship_id"]) for row in rows]

    async def remember_instance(
        self, zoom_uuid: str, zoom_meeting_id: str, meeting_id: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO zoom_meeting_instances (zoom_uuid, zoom_meeting_id, meeting_id,"
            " created_at) VALUES (?, ?, ?, ?) ON CONFLICT (zoom_uuid) DO NOTHING",
            (zoom_uuid, zoom_meeting_id, meeting_id, now_iso()),
        )

    async def meeting_for_instance(self, zoom_uuid: str) -> str | None:
        value = await self.db.fetch_value(
            "SELECT meeting_id FROM zoom_meeting_instances WHERE zoom_uuid = ?", (zoom_uuid,)
        )
        return None if value is None else str(value)

    async def current_meeting(self, mentorship_id: str, *, at: datetime) -> Meeting | None:
        """The pair's meeting a call at `at` belongs to: the live one, else one not ended that
        starts within an hour of `at` (a call well before its meeting is not that meeting)."""
        row = await self.db.fetch_one(
            "SELECT * FROM meetings WHERE mentorship_id = ? AND status IN ('scheduled', 'live')"
            " AND (status = 'live' OR (scheduled_start <= ? AND scheduled_end > ?))"
            " ORDER BY status = 'live' DESC, scheduled_start LIMIT 1",
            (mentorship_id, iso(at + timedelta(hours=1)), iso(at - timedelta(hours=2))),
        )
        return None if row is None else Meeting.model_validate(row)

    async def member_ids(self, mentorship_id: str) -> dict[str, str]:
        """person id -> email, for the members of a mentorship (webhook matching)."""
        rows = await self.db.fetch_all(
            "SELECT p.id, p.email FROM people p JOIN mentorships m"
            " ON p.id IN (m.mentor_id, m.mentee_id) WHERE m.id = ?",
            (mentorship_id,),
        )
        return {str(row["id"]): str(row["email"]) for row in rows}

    async def zoom_users_of(self, person_ids: list[str]) -> dict[str, tuple[str, str]]:
        """person id -> (zoom user id, zoom email) for those linked."""
        if not person_ids:
            return {}
        marks = ", ".join("?" for _ in person_ids)
        rows = await self.db.fetch_all(
            "SELECT person_id, zoom_user_id, zoom_email FROM zoom_accounts"
            f" WHERE person_id IN ({marks})",
            person_ids,
        )
        return {str(r["person_id"]): (str(r["zoom_user_id"]), str(r["zoom_email"])) for r in rows}

    # --- webhook events -----------------------------------------------------------------------

    async def store_event(self, event: str, body: dict[str, Any]) -> bool:
        """Store a verified event once; False when it was already stored (a re-send)."""
        changed = await self.db.execute(
            "INSERT INTO zoom_events (dedupe_key, event, body, received_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (event_key(event, body.get("payload")), event, json.dumps(body), now_iso()),
        )
        return changed > 0

    async def pending_events(self, limit: int = 50, max_attempts: int = 5) -> list[StoredEvent]:
        rows = await self.db.fetch_all(
            "SELECT id, event, body, attempts FROM zoom_events WHERE processed_at IS NULL"
            " AND attempts < ? ORDER BY id LIMIT ?",
            (max_attempts, limit),
        )
        return [
            StoredEvent(int(r["id"]), str(r["event"]), json.loads(r["body"]), int(r["attempts"]))
            for r in rows
        ]

    async def finish_event(self, event_id: int, outcome: str) -> None:
        """Mark an event done; one about no pair of ours keeps no payload (strangers' names)."""
        await self.db.execute(
            "UPDATE zoom_events SET processed_at = ?, outcome = ?, attempts = attempts + 1,"
            " body = CASE WHEN ? THEN '{}' ELSE body END WHERE id = ?",
            (now_iso(), outcome, outcome.startswith("ignored"), event_id),
        )

    async def forget_processed(self, *, before: datetime) -> int:
        return await self.db.execute(
            "DELETE FROM zoom_events WHERE processed_at IS NOT NULL AND processed_at < ?",
            (iso(before),),
        )

    async def fail_event(self, event_id: int, error: str) -> None:
        await self.db.execute(
            "UPDATE zoom_events SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error[:500], event_id),
        )


def _code_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _account(row: dict[str, Any]) -> ZoomAccount:
    tokens = row["tokens"]
    return ZoomAccount(
        person_id=str(row["person_id"]),
        zoom_user_id=str(row["zoom_user_id"]),
        zoom_email=str(row["zoom_email"]),
        tokens=bytes(tokens) if tokens is not None else None,
        token_expires_at=_dt(row["token_expires_at"]),
        scope=str(row["scope"]),
        linked_at=_dt(row["linked_at"]) or utcnow(),
    )
