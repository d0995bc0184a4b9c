"""Reminder emails, scheduled in the database when a meeting is made or moved.

- agenda due: the mentee, `AGENDA_DUE_HOURS` before the start, if the agenda has not gone out;
- starting soon: both people, `STARTING_SOON_MINUTES` before the start.
Each reminder row is handled once (done_at), and its email enqueued under the row's key, so a
restart or two instances racing cannot send one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sidecar import step_reminders
from sidecar.db.repositories import Repositories
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.domain.models import Meeting
from sidecar.mail.compose import compose
from sidecar.mail.outbox import Outbox
from sidecar.mail.signin_links import signin_url_for
from sidecar.settings import Settings

log = logging.getLogger(__name__)


async def schedule(repos: Repositories, meeting: Meeting, settings: Settings) -> None:
    """(Re)plan the reminders of a meeting that are not yet handled."""
    if meeting.status == "cancelled":
        return
    pair = await repos.db.fetch_one(
        "SELECT mentor_id, mentee_id FROM mentorships WHERE id = ?", (meeting.mentorship_id,)
    )
    assert pair is not None
    start = meeting.scheduled_start
    wanted = []
    if pair["mentee_id"]:
        wanted.append(
            (pair["mentee_id"], "agenda_due", start - timedelta(hours=settings.agenda_due_hours))
        )
    for person in (pair["mentor_id"], pair["mentee_id"]):
        if person:
            wanted.append(
                (person, "starting_soon", start - timedelta(minutes=settings.starting_soon_minutes))
            )
    async with repos.db.transaction():
        for person_id, kind, due in wanted:
            await repos.db.execute(
                "INSERT INTO reminders (meeting_id, person_id, kind, due_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (meeting_id, person_id, kind) DO UPDATE SET due_at = excluded.due_at"
                " WHERE reminders.done_at IS NULL",
                (meeting.id, person_id, kind, iso(due)),
            )


async def drop(repos: Repositories, meeting_id: str) -> int:
    """Forget the reminders of a cancelled meeting that have not gone out."""
    return await repos.db.execute(
        "DELETE FROM reminders WHERE meeting_id = ? AND done_at IS NULL", (meeting_id,)
    )


async def send_due(repos: Repositories, outbox: Outbox, settings: Settings) -> int:
    """Handle every reminder that is due; returns how many emails were enqueued."""
    due = await repos.db.fetch_all(
        "SELECT r.id, r.kind, r.person_id, r.meeting_id FROM reminders r"
        " WHERE r.done_at IS NULL AND r.due_at <= ? ORDER BY r.due_at LIMIT 100",
        (now_iso(),),
    )
    sent = 0
    for reminder in due:
        async with repos.db.transaction():
            claimed = await repos.db.execute(
                "UPDATE reminders SET done_at = ? WHERE id = ? AND done_at IS NULL",
                (now_iso(), reminder["id"]),
            )
            if not claimed:  # another round handled it
                continue
            meeting = await repos.meetings.get(reminder["meeting_id"], viewer=reminder["person_id"])
            person = await repos.people.get(reminder["person_id"])
            relevant = meeting.status == "scheduled" and meeting.scheduled_start > utcnow()
            if reminder["kind"] == "agenda_due":
                relevant = relevant and meeting.agenda_sent_at is None
            if relevant:
                panel = await signin_url_for(repos, settings, person.id, f"/meetings/{meeting.id}")
                message = _message(
                    reminder["kind"],
                    meeting,
                    person.name,
                    person.email,
                    person.timezone,
                    settings,
                    panel,
                )
                await outbox.enqueue(
                    f"reminder:{reminder['id']}",
                    message,
                    kind=reminder["kind"],
                    meeting_id=meeting.id,
                    person_id=person.id,
                )
                sent += 1
            await repos.db.execute(
                "UPDATE reminders SET outcome = ? WHERE id = ?",
                ("sent" if relevant else "skipped", reminder["id"]),
            )
    return sent


def _message(
    kind: str,
    meeting: Meeting,
    name: str,
    address: str,
    timezone: str,
    settings: Settings,
    panel: str,  # the meeting's panel, through a link that signs the reader in
) -> EmailMessage:
    local = meeting.scheduled_start.astimezone(ZoneInfo(timezone))
    starts = f"{local:%A %d %B, %H:%M} ({timezone})"
    if kind == "agenda_due":
        subject = f"Agenda due: {meeting.title}, {starts}"
        text = (
            f"Hello {name},\n\nYour next meeting is {starts}. Preparing the agenda beforehand lets "
            "both of you start on time and make the most of the call: what happened since last "
            "time, successes, challenges, progress on your goals, and what you want to talk "
            f"about.\n\nPrepare and send it here: {panel}\n"
        )
    else:
        subject = f"Starting soon: {meeting.title}, {local:%H:%M}"
        text = (
            f"Hello {name},\n\n{meeting.title} starts at {starts}. Close what you don't need for "
            f"the call, and open the panel when you join:\n{panel}\n"
        )
        if meeting.join_url:
            text += f"\nJoin the call: {meeting.join_url}\n"
    return compose(
        sender=settings.mail_from, to_name=name, to_address=address, subject=subject, text=text
    )


async def run_forever(repos: Repositories, outbox: Outbox, settings: Settings) -> None:
    while True:
        try:
            await send_due(repos, outbox, settings)
            await step_reminders.send_due(repos, outbox, settings)
        except Exception:
            log.exception("a reminders round failed")
        await asyncio.sleep(settings.reminders_poll_seconds)


def start(repos: Repositories, outbox: Outbox, settings: Settings) -> asyncio.Task[None]:
    return asyncio.create_task(run_forever(repos, outbox, settings), name="reminders")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
