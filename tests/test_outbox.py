"""The outbox against a real SMTP server: delivered once, retried through outages, kept across
restarts, and sent once by several workers sharing one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.domain.ids import utcnow
from sidecar.keys import DATABASE, OUTBOX, REPOS
from sidecar.mail.compose import Attachment, compose
from sidecar.mail.outbox import CLAIM_BATCH, Outbox, backoff
from sidecar.mail.transport import MailTransport
from sidecar.settings import Settings
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty


def message(subject: str = "Agenda for Tuesday") -> EmailMessage:
    return compose(
        sender="Mentor Sidecar <sidecar@example.org>",
        to_name="Ana Souza",
        to_address="ana@example.org",
        subject=subject,
        text="Plain text",
        html="<p>HTML</p>",
        attachments=(Attachment("meeting.ics", "text/calendar", b"BEGIN:VCALENDAR\r\n"),),
    )


async def started(tmp_path: Path, smtp: SmtpServer) -> TestServer:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.2, **smtp.settings())
    server = TestServer(create_app(settings))
    await server.start_server()
    return server


async def test_a_message_is_delivered_once_whatever_the_repeats(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    outbox = server.app[OUTBOX]
    results = await asyncio.gather(
        *[outbox.enqueue("agenda:m1:p1", message(), kind="agenda") for _ in range(5)]
    )
    assert results.count(True) == 1
    await eventually(lambda: len(smtp.inbox.messages) == 1)
    received = smtp.inbox.messages[0]
    assert received["Subject"] == "Agenda for Tuesday"
    assert {part.get_content_type() for part in received.walk()} >= {
        "text/plain",
        "text/html",
        "text/calendar",
    }
    await outbox_empty(server.app[DATABASE])  # nothing left that could arrive a second time
    assert len(smtp.inbox.messages) == 1
    await server.close()


async def test_a_refused_message_is_retried_until_it_arrives(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse = True
    server = await started(tmp_path, smtp)
    await server.app[OUTBOX].enqueue("summary:m1:p1", message("Summary"), kind="summary")
    db = server.app[DATABASE]

    async def tried() -> bool:
        return bool(await db.fetch_value("SELECT attempts FROM outbox"))

    await eventually(tried, what="the first attempt")
    row = await db.fetch_one("SELECT attempts, last_error, sent_at FROM outbox")
    assert (
        row is not None
        and row["attempts"] >= 1
        and "try again" in row["last_error"]
        and row["sent_at"] is None
    )
    smtp.inbox.refuse = False
    await eventually(lambda: len(smtp.inbox.messages) == 1)
    await server.close()


async def test_mail_waiting_for_a_dead_smtp_server_survives_a_restart(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    smtp.stop()
    server = await started(tmp_path, smtp)
    await server.app[OUTBOX].enqueue("reminder:m1:p1", message("Starting soon"), kind="reminder")
    db = server.app[DATABASE]

    async def tried() -> bool:
        return bool(await db.fetch_value("SELECT attempts FROM outbox"))

    await eventually(tried, what="the attempt that fails")
    await server.close()
    smtp.start()
    again = await started(tmp_path, smtp)
    # The failed attempt scheduled its retry a couple of seconds out.
    await eventually(lambda: len(smtp.inbox.messages) == 1)
    assert smtp.inbox.messages[0]["Subject"] == "Starting soon"
    await again.close()


async def test_without_smtp_mail_is_written_to_a_folder(tmp_path: Path) -> None:
    server = TestServer(create_app(Settings(data_dir=tmp_path, outbox_poll_seconds=0.2)))
    await server.start_server()
    await server.app[OUTBOX].enqueue("x", message("Folder"), kind="test")
    await eventually(lambda: any((tmp_path / "mail").glob("*.eml")))
    written = next((tmp_path / "mail").glob("*.eml")).read_bytes()
    assert b"Subject: Folder" in written
    await server.close()


def test_backoff_starts_in_seconds_and_grows_to_minutes() -> None:
    assert backoff(1).total_seconds() == 2
    assert backoff(3).total_seconds() == 8
    assert backoff(10).total_seconds() == 15 * 60


class Clock:
    """The time the workers of a test see; it moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def quiet_service(tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[TestServer]:
    """A service on the shared database with its own outbox worker stopped, so the test's
    workers are the ones sending."""
    settings = Settings(data_dir=tmp_path, **smtp.settings())
    server = TestServer(create_app(settings))
    await server.start_server()
    await server.app[OUTBOX].stop()
    try:
        yield server
    finally:
        await server.close()


def worker(server: TestServer, clock: Clock | None = None, timeout: float = 600) -> Outbox:
    """Another outbox over the service's database, as a second process would run it."""
    return Outbox(
        server.app[REPOS].outbox,
        server.app[OUTBOX].transport,
        poll_seconds=3600,
        claim_timeout_seconds=timeout,
        clock=clock or utcnow,
    )


async def test_workers_of_two_services_on_one_database_send_each_message_once(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    async with quiet_service(tmp_path, smtp) as one, quiet_service(tmp_path, smtp) as two:
        first, second, third = worker(one), worker(two), worker(two)
        count = 3 * CLAIM_BATCH + 4
        for n in range(count):
            assert await first.enqueue(f"test:{n}", message(f"Message {n}"), kind="test")
        sent = await asyncio.gather(first.deliver_due(), second.deliver_due(), third.deliver_due())
        assert sum(sent) == count
        subjects = sorted(str(m["Subject"]) for m in smtp.inbox.messages)
        assert subjects == sorted(f"Message {n}" for n in range(count)), "each exactly once"
        assert await asyncio.gather(first.deliver_due(), second.deliver_due()) == [0, 0]


async def test_a_claim_left_by_a_worker_that_died_is_taken_over_after_the_timeout(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    clock = Clock()
    async with quiet_service(tmp_path, smtp) as service:
        store = service.app[REPOS].outbox
        live = worker(service, clock, timeout=60)
        await live.enqueue("summary:m1:p1", message("Summary"), kind="summary")
        # A process claims it, and dies before sending.
        claimed = await store.claim_due(
            "process-that-died", now=clock.now, stale_before=clock.now - timedelta(seconds=60),
            limit=CLAIM_BATCH,
        )  # fmt: skip
        assert [m.kind for m in claimed] == ["summary"]

        clock.now += timedelta(seconds=59)
        assert await live.deliver_due() == 0, "the claim still holds"
        assert smtp.inbox.messages == []

        clock.now += timedelta(seconds=2)
        assert await live.deliver_due() == 1, "taken over once the claim is older than the timeout"
        assert [str(m["Subject"]) for m in smtp.inbox.messages] == ["Summary"]

        # The first process comes back and reports a failure: it no longer holds the message.
        assert not await store.mark_failed(
            claimed[0].id, "process-that-died", attempts=1, error="gone", retry_at=clock.now
        )
        await outbox_empty(service.app[DATABASE])
        clock.now += timedelta(hours=1)
        assert await live.deliver_due() == 0
        assert len(smtp.inbox.messages) == 1


class StopsAtFirstSend:
    """The real transport, with the outbox told to stop while its first message is on the way."""

    def __init__(self, inner: MailTransport) -> None:
        self.inner = inner
        self.outbox: Outbox | None = None
        self.stopping: asyncio.Task[None] | None = None

    async def send(self, message: EmailMessage) -> None:
        if self.stopping is None and self.outbox is not None:
            self.stopping = asyncio.create_task(self.outbox.stop())
        await self.inner.send(message)  # network I/O: the stop begins meanwhile

    def describe(self) -> str:
        return self.inner.describe()


async def test_a_stopping_worker_gives_back_what_it_had_not_tried(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    clock = Clock()
    async with quiet_service(tmp_path, smtp) as service:
        transport = StopsAtFirstSend(service.app[OUTBOX].transport)
        leaving = Outbox(service.app[REPOS].outbox, transport, poll_seconds=3600, clock=clock)
        transport.outbox = leaving
        for n in range(3):
            await leaving.enqueue(f"test:{n}", message(f"Message {n}"), kind="test")
        leaving.start()
        await eventually(lambda: transport.stopping is not None and transport.stopping.done())
        assert len(smtp.inbox.messages) == 1, "the message on the way is finished"
        # The clock stands still: another worker gets the other two only if they were given back.
        assert await worker(service, clock).deliver_due() == 2
        assert len(smtp.inbox.messages) == 3


async def test_mail_queued_inside_a_transaction_is_sent_once_committed_not_a_poll_later(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """The summary is queued in the transaction that ends the meeting. On PostgreSQL the worker
    reads on another connection: woken before the COMMIT, it would find nothing and sleep a
    whole poll (an hour here). It is woken after the COMMIT instead."""
    async with quiet_service(tmp_path, smtp) as service:
        sender = worker(service)
        sender.start()
        try:
            # Let it look once and go to sleep for the poll: its first round finds nothing.
            await eventually(lambda: sender.rounds >= 1)
            async with service.app[REPOS].transaction():
                assert await sender.enqueue("test:in-a-transaction", message(), kind="test")
                await asyncio.sleep(0)  # the worker's turn comes while still uncommitted
            await eventually(lambda: len(smtp.inbox.messages) == 1)
        finally:
            await sender.stop()
