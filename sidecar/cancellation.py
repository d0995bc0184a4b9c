"""Cancelling a meeting, and a new series replacing the upcoming meetings of the old one.

A cancelled meeting keeps its agenda and notes; its reminders are dropped, both people are
emailed once (outbox key `cancel:{meeting}:{person}`) with an iCalendar CANCEL, and the calendar
feed shows it STATUS:CANCELLED. The other meetings keep their dates: skipping one keeps the rhythm.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from sidecar import reminders
from sidecar.domain.errors import Conflict
from sidecar.domain.models import Meeting
from sidecar.keys import LIVE_EVENTS, OUTBOX, REPOS, SETTINGS
from sidecar.mail.cancellation import cancellation_email
from sidecar.mail.signin_links import signin_url_for
from sidecar.summary import attendance

log = logging.getLogger(__name__)


async def cancel_meeting(
    app: web.Application, meeting_id: str, *, viewer: str, notify: bool = True
) -> Meeting:
    """Cancel a meeting not held (again: nothing more happens); `notify` emails both people."""
    cancelled, changed = await _cancel(app, meeting_id, viewer=viewer, notify=notify)
    if changed:
        log.info("meeting %s cancelled by %s", meeting_id, viewer)
        await app[LIVE_EVENTS].publish("meeting", viewer, meeting_id=meeting_id)
    return cancelled


async def _cancel(
    app: web.Application, meeting_id: str, *, viewer: str, notify: bool
) -> tuple[Meeting, bool]:
    repos = app[REPOS]
    settings = app[SETTINGS]
    async with repos.transaction():
        await repos.meetings.lock_for_change(meeting_id)  # a join cannot make it live meanwhile
        meeting = await repos.meetings.get(meeting_id, viewer=viewer)
        if meeting.status == "live" and await attendance.anyone_joined(repos, meeting):
            raise Conflict("This meeting is under way; end it instead.", code="live")
        cancelled, changed = await repos.meetings.cancel(meeting_id, viewer=viewer)
        if not changed:
            return cancelled, False
        await reminders.drop(repos, meeting_id)
        if notify:
            mentorship = await repos.mentorships.get(cancelled.mentorship_id, viewer=viewer)
            people = {
                p: await repos.people.get(p)
                for p in (mentorship.mentor_id, mentorship.mentee_id)
                if p
            }
            for person in people.values():
                panel = await signin_url_for(repos, settings, person.id, f"/meetings/{meeting_id}")
                message = cancellation_email(
                    meeting=cancelled,
                    mentorship=mentorship,
                    people=people,
                    reader=person,
                    cancelled_by=people[viewer],
                    mail_from=settings.mail_from,
                    base_url=settings.base_url,
                    panel_url=panel,
                )
                await app[OUTBOX].enqueue(
                    f"cancel:{meeting_id}:{person.id}",
                    message,
                    kind="cancellation",
                    meeting_id=meeting_id,
                    person_id=person.id,
                )
    return cancelled, True


async def replace_upcoming(
    app: web.Application,
    mentorship_id: str,
    *,
    series_id: str,
    first_of_series: Meeting,
    after: datetime,
    viewer: str,
) -> list[Meeting]:
    """Cancel the not-yet-started meetings of earlier series (quietly: the new series is the
    news), moving their open agenda items to the new series' first upcoming meeting."""
    repos = app[REPOS]
    replaced = []
    async with repos.transaction():
        upcoming = await repos.meetings.upcoming_of_other_series(
            mentorship_id, series_id=series_id, after=after
        )
        for old in upcoming:
            await repos.agenda.move_open(old.id, first_of_series.id, viewer=viewer)
            cancelled, _ = await _cancel(app, old.id, viewer=viewer, notify=False)
            replaced.append(cancelled)
    return replaced  # the schedule endpoint tells the pair's panels, after its commit
