"""A durable outbox: messages are stored first, then delivered, retried with backoff until sent.

A message is enqueued under a key (e.g. `agenda:{meeting}:{person}`); enqueueing the same key
again does nothing, which is what makes "each reminder goes out once" hold across restarts and
racing signals. Delivery is at least once: a crash between the SMTP server's acceptance and our
commit would send that one message again on restart.

Several processes may share one database: each worker claims the messages it sends
(sidecar/db/repositories/outbox.py), so two never send the same one. A claim left by a process
that died is taken over after `MENTOR_SIDECAR_CLAIM_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sidecar.db.repositories.outbox import OutboxMessage, OutboxRepository
from sidecar.domain.ids import iso, new_id, utcnow
from sidecar.mail import webhook
from sidecar.mail.transport import MailTransport

log = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 15 * 60.0
# Claimed at a time: few enough that their sends end well within the claim timeout.
CLAIM_BATCH = 10
DEFAULT_CLAIM_TIMEOUT_SECONDS = 600.0


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s … then minutes apart, at most 15 minutes."""
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def worker_name() -> str:
    """Who holds a claim, readable in the table: host, process, and this outbox."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[:6]}"


class Outbox:
    def __init__(
        self,
        store: OutboxRepository,
        transport: MailTransport,
        *,
        poll_seconds: float,
        claim_timeout_seconds: float = DEFAULT_CLAIM_TIMEOUT_SECONDS,
        allow_private_webhooks: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self.transport = transport
        self.worker = worker_name()
        self._allow_private_webhooks = allow_private_webhooks
        self._poll_seconds = poll_seconds
        self._claim_timeout = timedelta(seconds=claim_timeout_seconds)
        self._clock = clock
        self._wake = asyncio.Event()
        self.rounds = 0  # delivery rounds the worker has finished (for the log and the tests)
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
        return await self._add(
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
        return await self._add(key, "webhook", meeting_id, None, url, "webhook", payload)

    async def _add(
        self,
        key: str,
        kind: str,
        meeting_id: str | None,
        person_id: str | None,
        recipient: str,
        subject: str,
        data: bytes,
    ) -> bool:
        added = await self._store.add(
            key,
            kind=kind,
            meeting_id=meeting_id,
            person_id=person_id,
            recipient=recipient,
            subject=subject,
            data=data,
            now=self._clock(),
        )
        # Inside a transaction (the summary at a meeting's end), the worker could look before the
        # COMMIT, find nothing on its own connection and wait a whole poll: wake it after.
        self._store.after_commit(self._wake.set)
        return added

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
        """Claim what is due, a batch at a time, and try each message once; returns how many
        were sent."""
        sent = 0
        while not self._stopping:
            now = self._clock()
            batch = await self._store.claim_due(
                self.worker, now=now, stale_before=now - self._claim_timeout, limit=CLAIM_BATCH
            )
            sent += await self._deliver(batch)
            if len(batch) < CLAIM_BATCH:
                break
        return sent

    async def _deliver(self, batch: list[OutboxMessage]) -> int:
        sent = 0
        untried = [message.id for message in batch]
        try:
            for message in batch:
                if self._stopping:
                    break
                sent += await self._deliver_one(message)
                untried.remove(message.id)
        finally:
            # Stopping (or cancelled mid-send): give them back rather than make the next start,
            # or another worker, wait out the claim timeout.
            if untried:
                await asyncio.shield(self._store.release(untried, self.worker))
        return sent

    async def _deliver_one(self, message: OutboxMessage) -> int:
        try:
            await self._send(message.kind, message.recipient, message.data)
        except Exception as exc:  # SMTP down, refused, timed out: try again later
            attempts = message.attempts + 1
            retry_at = self._clock() + backoff(attempts)
            log.warning(
                "sending outbox message %s failed (attempt %d, next at %s): %s",
                message.id,
                attempts,
                iso(retry_at),
                exc,
            )
            await self._store.mark_failed(
                message.id, self.worker, attempts=attempts, error=str(exc), retry_at=retry_at
            )
            return 0
        # Shielded: once the server has the message, its record must be written.
        await asyncio.shield(self._store.mark_sent(message.id, now=self._clock()))
        return 1

    async def _deliver_forever(self) -> None:
        while not self._stopping:
            self._wake.clear()
            pause = self._poll_seconds
            try:
                await self.deliver_due()
                pause = await self._seconds_until_due()
            except Exception:
                log.exception("outbox delivery round failed")
            self.rounds += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    async def _seconds_until_due(self) -> float:
        """Until the next retry, or until the oldest claim another worker holds goes stale."""
        times = await self._store.times()
        moments = [times.next_attempt_at] if times.next_attempt_at else []
        if times.oldest_claim_at:
            moments.append(times.oldest_claim_at + self._claim_timeout)
        if not moments:
            return self._poll_seconds
        wait = (min(moments) - self._clock()).total_seconds()
        return max(0.05, min(wait, self._poll_seconds))
