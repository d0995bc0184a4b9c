"""Reminder emails, scheduled in the database when a meeting is made or moved.

- agenda due: the mentee, `AGENDA_DUE_HOURS` before the start, if the agenda has not gone out;
- starting soon: both people, `STARTING_SOON_MINUTES` before the start.
Each reminder row is claimed once (done_at) in the transaction that enqueues its email under the
row's key, so a restart, or several instances on one database, cannot send one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sidecar import step_reminders
from sidecar.db.repositories import Repositories
from sidecar.db.repositories.reminders import DueReminder, PlannedReminder
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Meeting, Person
from sidecar.mail import clocks
from sidecar.mail.compose import compose
from sidecar.mail.outbox import Outbox
from sidecar.mail.signin_links import signin_url_for
from sidecar.settings import Settings

log = logging.getLogger(__name__)
# Handled in one round at most; the rest wait for the next.
ROUND_LIMIT = 100


async def schedule(repos: Repositories, meeting: Meeting, settings: Settings) -> None:
    """(Re)plan the reminders of a meeting that are not yet handled."""
    if meeting.status == "cancelled":
        return
    pair = await repos.reminders.people_of(meeting.mentorship_id)
    start = meeting.scheduled_start
    wanted = []
    if pair.mentee_id:
        agenda_due = start - timedelta(hours=settings.agenda_due_hours)
        wanted.append(PlannedReminder(pair.mentee_id, "agenda_due", agenda_due))
    starting_soon = start - timedelta(minutes=settings.starting_soon_minutes)
    for person in (pair.mentor_id, pair.mentee_id):
        if person:
            wanted.append(PlannedReminder(person, "starting_soon", starting_soon))
    await repos.reminders.plan(meeting.id, wanted)


async def drop(repos: Repositories, meeting_id: str) -> int:
    """Forget the reminders of a cancelled meeting that have not gone out."""
    return await repos.reminders.drop_pending(meeting_id)


async def send_due(
    repos: Repositories, outbox: Outbox, settings: Settings, now: datetime | None = None
) -> int:
    """Handle the reminders that are due; returns how many emails were enqueued."""
    now = now or utcnow()
    sent = 0
    for _ in range(ROUND_LIMIT):
        async with repos.reminders.claim_next_due(now) as reminder:
            if reminder is None:
                break
            sent += await _handle(repos, outbox, settings, reminder, now)
    return sent


async def _handle(
    repos: Repositories, outbox: Outbox, settings: Settings, reminder: DueReminder, now: datetime
) -> int:
    """Enqueue the reminder's email if it still applies, and record what was done."""
    try:
        meeting = await repos.meetings.get(reminder.meeting_id, viewer=reminder.person_id)
        person = await repos.people.get(reminder.person_id)
    except NotFound:  # no longer in the pair: nothing to remind them of
        await repos.reminders.record_outcome(reminder.id, "skipped")
        return 0
    relevant = meeting.status == "scheduled" and meeting.scheduled_start > now
    if reminder.kind == "agenda_due":
        relevant = relevant and meeting.agenda_sent_at is None
    if relevant:
        panel = await signin_url_for(repos, settings, person.id, f"/meetings/{meeting.id}")
        other = await _other_person(repos, meeting, person.id)
        message = _message(reminder.kind, meeting, person, other, settings, panel)
        await outbox.enqueue(
            f"reminder:{reminder.id}",
            message,
            kind=reminder.kind,
            meeting_id=meeting.id,
            person_id=person.id,
        )
    await repos.reminders.record_outcome(reminder.id, "sent" if relevant else "skipped")
    return int(relevant)


async def _other_person(repos: Repositories, meeting: Meeting, reader_id: str) -> Person | None:
    """The pair's other person, whose clock the email shows beside the reader's."""
    pair = await repos.reminders.people_of(meeting.mentorship_id)
    other_id = pair.mentee_id if reader_id == pair.mentor_id else pair.mentor_id
    if other_id is None:
        return None
    with contextlib.suppress(NotFound):
        return await repos.people.get(other_id)
    return None


def _message(
    kind: str,
    meeting: Meeting,
    reader: Person,
    other: Person | None,
    settings: Settings,
    panel: str,  # the meeting's panel, through a link that signs the reader in
) -> EmailMessage:
    name, timezone = reader.name, reader.timezone
    local = meeting.scheduled_start.astimezone(ZoneInfo(timezone))
    mine = f"{local:%A %d %B, %H:%M} ({timezone})"
    starts = mine + clocks.their_time(meeting.scheduled_start, reader, other)
    if kind == "agenda_due":
        subject = f"Agenda due: {meeting.title}, {mine}"
        text = (
            f"Hello {name},\n\nYour next meeting is {starts}. Preparing the agenda beforehand lets "
            "both of you start on time and make the most of the call: what happened since last "
            "time, successes, challenges, progress on your goals, and what you want to talk "
            f"about.\n\nPrepare and send it here: {panel}\n"
        )
    else:
        subject = f"Starting soon: {meeting.title}, {local:%H:%M}"
        text = (
            f"Hello {name},\n\n{meeting.title} starts on {starts}. Close what you don't need for "
            f"the call, and open the panel when you join:\n{panel}\n"
        )
        if meeting.join_url:
            text += f"\nJoin the call: {meeting.join_url}\n"
    return compose(
        sender=settings.mail_from, to_name=name, to_address=reader.email, subject=subject, text=text
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
