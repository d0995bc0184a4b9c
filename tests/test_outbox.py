"""The outbox against a real SMTP server: delivered once, retried through outages, kept across
restarts."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path

from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.keys import DATABASE, OUTBOX
from sidecar.mail.compose import Attachment, compose
from sidecar.mail.outbox import backoff
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
