"""The outbox's table: storing messages once per key, and claiming due ones for one worker.

Several processes may deliver from one database. A worker claims a batch (claimed_at, claimed_by)
in one transaction, `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's BEGIN IMMEDIATE already
serialises the claim), so no two workers hold the same message. A claim whose worker died
mid-send is taken over once it is older than the claim timeout the caller passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sidecar.db.repositories.base import Repository
from sidecar.domain.ids import iso


@dataclass(frozen=True)
class OutboxMessage:
    """A message claimed for delivery: an email's bytes, or a webhook's JSON body."""

    id: int
    kind: str
    recipient: str  # an email address, or the webhook's URL
    data: bytes
    attempts: int


@dataclass(frozen=True)
class OutboxTimes:
    """When the outbox next has work: the earliest unclaimed retry, and the oldest claim held."""

    next_attempt_at: datetime | None
    oldest_claim_at: datetime | None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


class OutboxRepository(Repository):
    async def add(
        self,
        key: str,
        *,
        kind: str,
        meeting_id: str | None,
        person_id: str | None,
        recipient: str,
        subject: str,
        data: bytes,
        now: datetime,
    ) -> bool:
        """Store a message, due at once; False when one with this key exists already."""
        changed = await self.db.execute(
            "INSERT INTO outbox (dedupe_key, kind, meeting_id, person_id, recipient, subject,"
            " message, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (key, kind, meeting_id, person_id, recipient, subject, data, iso(now), iso(now)),
        )
        return changed > 0

    async def claim_due(
        self, worker: str, *, now: datetime, stale_before: datetime, limit: int
    ) -> list[OutboxMessage]:
        """Claim up to `limit` due messages for `worker`, oldest first: unclaimed ones, and ones
        whose claim was taken before `stale_before` (its worker is presumed dead)."""
        async with self.db.transaction():
            rows = await self.db.fetch_all(
                "SELECT id, kind, recipient, message, attempts FROM outbox"
                " WHERE sent_at IS NULL AND next_attempt_at <= ?"
                " AND (claimed_at IS NULL OR claimed_at < ?)"
                f" ORDER BY id LIMIT ?{self.db.skip_locked}",
                (iso(now), iso(stale_before), limit),
            )
            for row in rows:
                await self.db.execute(
                    "UPDATE outbox SET claimed_at = ?, claimed_by = ? WHERE id = ?",
                    (iso(now), worker, row["id"]),
                )
        return [
            OutboxMessage(
                id=int(row["id"]),
                kind=str(row["kind"]),
                recipient=str(row["recipient"]),
                data=bytes(row["message"]),
                attempts=int(row["attempts"]),
            )
            for row in rows
        ]

    async def mark_sent(self, message_id: int, *, now: datetime) -> None:
        """Record a delivery, whoever claimed it last: the message is out either way."""
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = NULL,"
            " claimed_at = NULL, claimed_by = NULL WHERE id = ? AND sent_at IS NULL",
            (iso(now), message_id),
        )

    async def mark_failed(
        self, message_id: int, worker: str, *, attempts: int, error: str, retry_at: datetime
    ) -> bool:
        """Schedule a retry and let go of the claim; False when `worker` no longer holds it
        (taken over after the timeout, or sent by the one that took it)."""
        changed = await self.db.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?,"
            " claimed_at = NULL, claimed_by = NULL"
            " WHERE id = ? AND claimed_by = ? AND sent_at IS NULL",
            (attempts, error[:500], iso(retry_at), message_id, worker),
        )
        return changed > 0

    async def release(self, message_ids: Sequence[int], worker: str) -> None:
        """Give back claims not tried (the worker is stopping), so others need not wait them out."""
        async with self.db.transaction():
            for message_id in message_ids:
                await self.db.execute(
                    "UPDATE outbox SET claimed_at = NULL, claimed_by = NULL"
                    " WHERE id = ? AND claimed_by = ? AND sent_at IS NULL",
                    (message_id, worker),
                )

    async def times(self) -> OutboxTimes:
        row = await self.db.fetch_one(
            "SELECT MIN(CASE WHEN claimed_at IS NULL THEN next_attempt_at END) AS next_attempt_at,"
            " MIN(claimed_at) AS oldest_claim_at FROM outbox WHERE sent_at IS NULL"
        )
        assert row is not None  # an aggregate always gives one row
        return OutboxTimes(_moment(row["next_attempt_at"]), _moment(row["oldest_claim_at"]))
