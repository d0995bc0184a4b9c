"""A durable outbox: messages are stored first, then delivered, retried with backoff until sent.

A message is enqueued under a key (e.g. `agenda:{meeting}:{person}`); enqueueing the same key
again does nothing, which is what makes "each reminder goes out once" hold across restarts and
racing signals. Delivery is at least once: a crash between the SMTP server's acceptance and our
commit would send that one message again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

from sidecar.db import Database
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.mail import webhook
from sidecar.mail.transport import MailTransport

log = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 15 * 60.0


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s … then minutes apart, at most 15 minutes."""
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


class Outbox:
    def __init__(
        self,
        db: Database,
        transport: MailTransport,
        *,
        poll_seconds: float,
        allow_private_webhooks: bool = False,
    ) -> None:
        self._db = db
        self.transport = transport
        self._allow_private_webhooks = allow_private_webhooks
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False

    async def enqueue(
        self,
        key: str,
        message: EmailMessage,
        *,
        kind: str,
        meeting_id: str | None = None,
        person_id: str | None = None,
    ) -> bool:
        """Store an email for delivery; False when one with this key exists already."""
        return await self._insert(
            key,
            kind,
            meeting_id,
            person_id,
            str(message["To"]),
            str(message["Subject"]),
            message.as_bytes(),
        )

    async def enqueue_webhook(
        self, key: str, url: str, payload: bytes, *, meeting_id: str | None = None
    ) -> bool:
        """A JSON POST, delivered and retried like an email."""
        return await self._insert(key, "webhook", meeting_id, None, url, "webhook", payload)

    async def _insert(
        self,
        key: str,
        kind: str,
        meeting_id: str | None,
        person_id: str | None,
        recipient: str,
        subject: str,
        data: bytes,
    ) -> bool:
        changed = await self._db.execute(
            "INSERT INTO outbox (dedupe_key, kind, meeting_id, person_id, recipient, subject,"
            " message, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (key, kind, meeting_id, person_id, recipient, subject, data, now_iso(), now_iso()),
        )
        self._wake.set()
        return changed > 0

    async def _send(self, kind: str, recipient: str, data: bytes) -> None:
        if kind == "webhook":
            await webhook.post(recipient, data, allow_private=self._allow_private_webhooks)
            return
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        await self.transport.send(message)

    def start(self) -> None:
        self._stopping = False
        self._worker = asyncio.create_task(self._deliver_forever(), name="outbox")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish the message being sent and record it, then stop; cancel after `grace_seconds`.

        Cancelling in the middle of a send could lose the record of a delivered message, and the
        next start would send it again.
        """
        if self._worker is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._worker), grace_seconds)
        except TimeoutError:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._worker = None

    async def deliver_due(self) -> int:
        """Try every message that is due once; returns how many were sent."""
        due = await self._db.fetch_all(
            "SELECT id, kind, recipient, message, attempts FROM outbox WHERE sent_at IS NULL"
            " AND next_attempt_at <= ? ORDER BY id LIMIT 50",
            (now_iso(),),
        )
        sent = 0
        for row in due:
            if self._stopping:
                break
            try:
                await self._send(row["kind"], row["recipient"], row["message"])
            except Exception as exc:  # SMTP down, refused, timed out: try again later
                attempts = row["attempts"] + 1
                retry_at = utcnow() + backoff(attempts)
                log.warning(
                    "sending outbox message %s failed (attempt %d, next at %s): %s",
                    row["id"],
                    attempts,
                    iso(retry_at),
                    exc,
                )
                await self._db.execute(
                    "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?"
                    " WHERE id = ?",
                    (attempts, str(exc)[:500], iso(retry_at), row["id"]),
                )
            else:
                # Shielded: once the server has the message, its record must be written.
                await asyncio.shield(
                    self._db.execute(
                        "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = NULL"
                        " WHERE id = ?",
                        (now_iso(), row["id"]),
                    )
                )
                sent += 1
        return sent

    async def _deliver_forever(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox delivery round failed")
            pause = await self._seconds_until_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    async def _seconds_until_due(self) -> float:
        next_at = await self._db.fetch_value(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE sent_at IS NULL"
        )
        if next_at is None:
            return self._poll_seconds
        wait = (datetime.fromisoformat(next_at) - utcnow()).total_seconds()
        return max(0.05, min(wait, self._poll_seconds))
