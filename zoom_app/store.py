"""All of the Zoom App's SQL: linked accounts, link codes, meeting links, stored events, and
what of them is a person's or a pair's (the privacy declaration, `ZOOM_PRIVACY`).

Only Zoom's own tables are read here. The core's (meetings, mentorships, people) are read through
the core's repositories, which check membership: callers ask them before linking a meeting.
Every statement runs on SQLite and PostgreSQL alike. What must happen once across several
processes (storing an event, using a link code, claiming an event) is a conditional write whose
result is checked, which holds under PostgreSQL's READ COMMITTED too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sidecar.db import Database
from sidecar.db.privacy_tables import MEETINGS_OF_MENTORSHIP
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.platforms.hookspecs import PrivacyDeclaration

# A claimed event is that worker's for this long; after it (the worker died) anyone's again.
CLAIM_LEASE = timedelta(minutes=2)


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


def _meeting_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The Zoom meeting number and instance UUID an event is about (stored beside it, so the
    export and the erasure find a pair's events without reading JSON in SQL)."""
    payload = body.get("payload")
    obj = payload.get("object") if isinstance(payload, dict) else None
    if not isinstance(obj, dict):
        return None, None
    number, uuid = obj.get("id"), obj.get("uuid")
    return (
        str(number) if number not in (None, "") else None,
        str(uuid) if uuid not in (None, "") else None,
    )


class ZoomStore:
    def __init__(self, db: Database) -> None:
        self._db = db

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
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM zoom_accounts WHERE zoom_user_id = ? AND person_id != ?",
                (zoom_user_id, person_id),
            )
            await self._db.execute(
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
        row = await self._db.fetch_one(
            "SELECT person_id, zoom_user_id, zoom_email, tokens, token_expires_at, scope,"
            " linked_at FROM zoom_accounts WHERE person_id = ?",
            (person_id,),
        )
        if row is None:
            raise NotFound("zoom account")
        return _account(row)

    async def person_for_zoom_user(self, zoom_user_id: str) -> str | None:
        value = await self._db.fetch_value(
            "SELECT person_id FROM zoom_accounts WHERE zoom_user_id = ?", (zoom_user_id,)
        )
        return None if value is None else str(value)

    async def save_tokens(
        self, person_id: str, tokens: bytes, expires_at: datetime, scope: str
    ) -> None:
        await self._db.execute(
            "UPDATE zoom_accounts SET tokens = ?, token_expires_at = ?, scope = ?, updated_at = ?"
            " WHERE person_id = ?",
            (tokens, iso(expires_at), scope, now_iso(), person_id),
        )

    async def update_email(self, person_id: str, email: str) -> None:
        await self._db.execute(
            "UPDATE zoom_accounts SET zoom_email = ?, updated_at = ? WHERE person_id = ?",
            (email, now_iso(), person_id),
        )

    async def unlink(self, person_id: str) -> None:
        await self._db.execute("DELETE FROM zoom_accounts WHERE person_id = ?", (person_id,))

    async def zoom_users_of(self, person_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """person id -> (zoom user id, zoom email) for those linked."""
        if not person_ids:
            return {}
        marks = ", ".join("?" for _ in person_ids)
        rows = await self._db.fetch_all(
            "SELECT person_id, zoom_user_id, zoom_email FROM zoom_accounts"
            f" WHERE person_id IN ({marks})",
            list(person_ids),
        )
        return {str(r["person_id"]): (str(r["zoom_user_id"]), str(r["zoom_email"])) for r in rows}

    # --- link codes ---------------------------------------------------------------------------

    async def create_link_code(self, person_id: str, code: str, lifetime: timedelta) -> datetime:
        expires = utcnow() + lifetime
        await self._db.execute(
            "INSERT INTO zoom_link_codes (code_hash, person_id, expires_at) VALUES (?, ?, ?)",
            (_code_hash(code), person_id, iso(expires)),
        )
        return expires

    async def redeem_link_code(self, code: str) -> str:
        """The person a live, unused code belongs to; the code is used up. One conditional
        UPDATE: of two redemptions at once (any processes) exactly one gets the person."""
        now = now_iso()
        async with self._db.transaction():
            person = await self._db.fetch_value(
                "UPDATE zoom_link_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL"
                " AND expires_at > ? RETURNING person_id",
                (now, _code_hash(code), now),
            )
        if person is None:
            raise NotFound("link code")
        return str(person)

    # --- meeting links ------------------------------------------------------------------------

    async def link_meeting(self, zoom_meeting_id: str, mentorship_id: str, *, by: str) -> None:
        """Remember the Zoom meeting is the mentorship's (the caller checked `by` is a member)."""
        now = now_iso()
        await self._db.execute(
            "INSERT INTO zoom_meeting_links (zoom_meeting_id, mentorship_id, linked_by,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (zoom_meeting_id, mentorship_id) DO UPDATE SET"
            " linked_by = excluded.linked_by, updated_at = excluded.updated_at",
            (zoom_meeting_id, mentorship_id, by, now, now),
        )

    async def mentorships_linked_to(self, zoom_meeting_id: str) -> list[str]:
        """Every mentorship linked to this Zoom meeting, the latest linked first (the caller
        keeps those its viewer is a member of; the webhook, which has no viewer, all)."""
        rows = await self._db.fetch_all(
            "SELECT mentorship_id FROM zoom_meeting_links WHERE zoom_meeting_id = ?"
            " ORDER BY updated_at DESC",
            (zoom_meeting_id,),
        )
        return [str(row["mentorship_id"]) for row in rows]

    async def remember_instance(
        self, zoom_uuid: str, zoom_meeting_id: str, meeting_id: str
    ) -> None:
        await self._db.execute(
            "INSERT INTO zoom_meeting_instances (zoom_uuid, zoom_meeting_id, meeting_id,"
            " created_at) VALUES (?, ?, ?, ?) ON CONFLICT (zoom_uuid) DO NOTHING",
            (zoom_uuid, zoom_meeting_id, meeting_id, now_iso()),
        )

    async def meeting_for_instance(self, zoom_uuid: str) -> str | None:
        value = await self._db.fetch_value(
            "SELECT meeting_id FROM zoom_meeting_instances WHERE zoom_uuid = ?", (zoom_uuid,)
        )
        return None if value is None else str(value)

    # --- webhook events -----------------------------------------------------------------------

    async def store_event(self, event: str, body: dict[str, Any]) -> bool:
        """Store a verified event once; False when it was already stored (a re-send, perhaps
        received by another process at the same moment: the unique key decides)."""
        number, uuid = _meeting_of(body)
        async with self._db.transaction():
            stored = await self._db.fetch_value(
                "INSERT INTO zoom_events (dedupe_key, event, body, received_at, zoom_meeting_id,"
                " zoom_uuid) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
                " RETURNING id",
                (
                    event_key(event, body.get("payload")),
                    event,
                    json.dumps(body),
                    now_iso(),
                    number,
                    uuid,
                ),
            )
        return stored is not None

    async def claim_events(self, limit: int = 50, max_attempts: int = 5) -> list[StoredEvent]:
        """Events to act on, each claimed for this worker: another process's worker skips them
        (locked rows, then their claim) until they are finished or the claim has lapsed."""
        now = utcnow()
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                "SELECT id, event, body, attempts FROM zoom_events WHERE processed_at IS NULL"
                " AND attempts < ? AND (claimed_until IS NULL OR claimed_until < ?)"
                f" ORDER BY id LIMIT ?{self._db.skip_locked}",
                (max_attempts, iso(now), limit),
            )
            if rows:
                marks = ", ".join("?" for _ in rows)
                await self._db.execute(
                    f"UPDATE zoom_events SET claimed_until = ? WHERE id IN ({marks})",
                    [iso(now + CLAIM_LEASE), *(int(r["id"]) for r in rows)],
                )
        return [
            StoredEvent(int(r["id"]), str(r["event"]), json.loads(r["body"]), int(r["attempts"]))
            for r in rows
        ]

    async def finish_event(self, event_id: int, outcome: str) -> None:
        """Mark an event done; one about no pair of ours keeps no payload (strangers' names)."""
        if outcome.startswith("ignored"):
            await self._db.execute(
                "UPDATE zoom_events SET processed_at = ?, outcome = ?, attempts = attempts + 1,"
                " claimed_until = NULL, body = '{}', zoom_meeting_id = NULL, zoom_uuid = NULL"
                " WHERE id = ?",
                (now_iso(), outcome, event_id),
            )
            return
        await self._db.execute(
            "UPDATE zoom_events SET processed_at = ?, outcome = ?, attempts = attempts + 1,"
            " claimed_until = NULL WHERE id = ?",
            (now_iso(), outcome, event_id),
        )

    async def fail_event(self, event_id: int, error: str) -> None:
        """Count a failed attempt and let the event go, to be tried again."""
        await self._db.execute(
            "UPDATE zoom_events SET attempts = attempts + 1, last_error = ?, claimed_until = NULL"
            " WHERE id = ?",
            (error[:500], event_id),
        )

    async def release_events(self, event_ids: Sequence[int]) -> None:
        """Give back claimed events not acted on (the worker is stopping), for the next worker."""
        if not event_ids:
            return
        marks = ", ".join("?" for _ in event_ids)
        await self._db.execute(
            f"UPDATE zoom_events SET claimed_until = NULL WHERE id IN ({marks})"
            " AND processed_at IS NULL",
            [int(event_id) for event_id in event_ids],
        )

    async def forget_processed(self, *, before: datetime) -> int:
        forgotten = await self._db.execute(
            "DELETE FROM zoom_events WHERE processed_at IS NOT NULL AND processed_at < ?",
            (iso(before),),
        )
        return int(forgotten)


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


# --- privacy: what of these tables is a person's or a pair's ------------------------------------

# Zoom's notifications about the pair's Zoom meetings, by the meeting number or instance UUID
# stored beside each (zoom_meeting_id, zoom_uuid: see _meeting_of).
_ZOOM_EVENTS_OF_PAIR = (
    "(zoom_meeting_id IN"
    " (SELECT zoom_meeting_id FROM zoom_meeting_links WHERE mentorship_id = :mentorship)"
    " OR zoom_uuid IN"
    f" (SELECT zoom_uuid FROM zoom_meeting_instances WHERE meeting_id IN {MEETINGS_OF_MENTORSHIP}))"
)

ZOOM_PRIVACY = PrivacyDeclaration(
    person_tables={
        # The sealed OAuth tokens stay behind: they are Zoom's keys to the account, not data.
        "zoom_accounts": (
            "SELECT zoom_user_id, zoom_email, scope, token_expires_at, linked_at, updated_at"
            " FROM zoom_accounts WHERE person_id = :person"
        ),
        "zoom_link_codes": (
            "SELECT expires_at, used_at FROM zoom_link_codes WHERE person_id = :person"
        ),
    },
    mentorship_tables={
        "zoom_meeting_links": (
            "SELECT zoom_meeting_id, mentorship_id, linked_by, created_at, updated_at"
            " FROM zoom_meeting_links WHERE mentorship_id = :mentorship"
        ),
        "zoom_meeting_instances": (
            "SELECT zoom_uuid, zoom_meeting_id, meeting_id, created_at"
            f" FROM zoom_meeting_instances WHERE meeting_id IN {MEETINGS_OF_MENTORSHIP}"
        ),
        "zoom_events": (
            "SELECT event, body, received_at, processed_at, outcome FROM zoom_events"
            f" WHERE {_ZOOM_EVENTS_OF_PAIR}"
        ),
    },
    # Before the links and instances it is matched by go (with the mentorship, by cascade).
    erase_with_mentorship=(f"DELETE FROM zoom_events WHERE {_ZOOM_EVENTS_OF_PAIR}",),
)
