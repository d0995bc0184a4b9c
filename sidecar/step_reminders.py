"""The day before a next step is due, its owner gets a short email (MENTOR_SIDECAR_STEP_DUE_
REMINDERS). It runs in the reminders round; each (step, due date) is claimed once, in the
transaction that enqueues its email, so a restart or another instance on the same database never
sends it twice, and moving the date brings a new reminder.

"The day before" is in the owner's own time zone, from 09:00 there; a step written down less
than 12 hours earlier is not reminded of (its owner has just agreed to it).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sidecar.db.repositories import Repositories
from sidecar.db.repositories.step_reminders import DueStep
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Person
from sidecar.mail.compose import compose
from sidecar.mail.outbox import Outbox
from sidecar.mail.signin_links import signin_url_for
from sidecar.settings import Settings

log = logging.getLogger(__name__)

FROM_HOUR = time(9, 0)
JUST_AGREED = timedelta(hours=12)


async def send_due(
    repos: Repositories, outbox: Outbox, settings: Settings, now: datetime | None = None
) -> int:
    """Enqueue the reminders due now; returns how many."""
    if not settings.step_due_reminders:
        return 0
    now = now or utcnow()
    store = repos.step_reminders
    today = now.date()
    # Every time zone's "tomorrow" lies within a day either side of UTC's.
    candidates = await store.due_between(today, today + timedelta(days=2))
    sent = 0
    for step in candidates:
        owner = await repos.people.get(step.owner_id)
        if not _is_the_day_before(step, owner, now) or step.meeting_id is None:
            continue
        async with store.claim(step.id, step.due_date, now) as claimed:
            if not claimed:
                continue  # another round has it
            panel = await signin_url_for(repos, settings, owner.id, f"/meetings/{step.meeting_id}")
            await outbox.enqueue(
                f"step-due:{step.id}:{step.due_date.isoformat()}",
                _message(step, owner, settings, panel),
                kind="step_due",
                meeting_id=step.meeting_id,  # erased with the mentorship, like the step itself
                person_id=owner.id,
            )
            await store.record(step.id, step.due_date, "sent")
        sent += 1
    return sent


def _is_the_day_before(step: DueStep, owner: Person, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(owner.timezone))
    return (
        step.due_date - local.date() == timedelta(days=1)
        and local.time() >= FROM_HOUR
        and now - step.created_at >= JUST_AGREED
    )


def _message(step: DueStep, owner: Person, settings: Settings, panel: str) -> EmailMessage:
    """`panel`: the meeting, through a link that signs the owner in (sidecar/mail/signin_links)."""
    day = f"{step.due_date:%A} {step.due_date.day} {step.due_date:%B}"
    short = step.text if len(step.text) <= 60 else step.text[:57].rstrip() + "…"
    text = (
        f"Hello {owner.name},\n\n"
        f"Tomorrow, {day}, is the day you agreed for this next step:\n\n"
        f"    {step.text}\n\n"
        "If it is done, mark it done in the panel; if the date no longer fits, change it "
        f"there, so your partner knows:\n{panel}\n"
    )
    return compose(
        sender=settings.mail_from,
        to_name=owner.name,
        to_address=owner.email,
        subject=f"Due tomorrow: {short}",
        text=text,
    )
