"""A meeting's lifecycle after it is scheduled: ended (by a person, the idle check or a call
platform), reopened, ended again; and the idle check that ends meetings left open.

Ending: however many signals arrive, one summary per meeting, one email per person. Everything
happens in one transaction under the database's single-writer lock: mark the meeting
ended, read the notes, turn `- [ ]` lines into next steps, carry uncovered agenda items into the
next meeting, store the summary, and enqueue each person's email under `summary:{meeting}:{person}`.
A second signal, concurrent or after a restart, finds the summary and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from sidecar.db.repositories import Repositories
from sidecar.domain.errors import Conflict, NotFound
from sidecar.domain.ids import now_iso, utcnow
from sidecar.domain.models import AgendaSection, Meeting, Mentorship, Person
from sidecar.keys import LIVE_EVENTS, NOTE_ROOMS, OUTBOX, REPOS, SETTINGS, WEBSOCKETS
from sidecar.mail.signin_links import signin_url_for
from sidecar.mail.webhook import summary_payload
from sidecar.platforms.names import CORE_SOURCES, checked_platform_name
from sidecar.summary import attendance
from sidecar.summary.compose import (
    MeetingRecord,
    Step,
    searchable_summary,
    summary_email,
    summary_markdown,
)
from sidecar.summary.parse import NextStep, parse_notes

log = logging.getLogger(__name__)
# What was not reached moves on to the next meeting: topics and challenges still want talking
# about. A success, a goal update, a review or a plan belongs to the meeting it was written for
# (next steps carry over as action items of their own).
CARRIED_SECTIONS: frozenset[AgendaSection] = frozenset({"topics", "challenges"})
# The websockets of an open panel (sidecar/web/open_sockets.py kinds): live notes, live events.
PANEL_SOCKETS = frozenset({"notes", "events"})


async def end_meeting(
    app: web.Application,
    meeting_id: str,
    *,
    source: str,
    actor: str | None,
    pressed: bool = False,
    even_if_empty: bool = False,
    only_if_live: bool = False,
) -> bool:
    """End the meeting and send its summary; False when that had already happened (and for a
    cancelled meeting). After a reopen it ends once more: the summary is rewritten and sent
    again, corrected.

    `pressed`: a person pressed End (POST .../end), which is refused (Conflict with a code)
    before the meeting's window opens, for a cancelled meeting, and, unless `even_if_empty`,
    when nobody joined and nothing was written (cancelling it is what was meant).
    `only_if_live`: a call platform or the idle check ends only a meeting that is live (checked
    under the meeting's lock, so a reopen or a cancel in between is seen).
    """
    if source not in CORE_SOURCES:
        checked_platform_name(source)  # "panel", "idle", or the platform whose call ended
    repos: Repositories = app[REPOS]
    async with repos.transaction():
        # Locked until the commit: a second end signal (another process too) waits, then
        # finds this end's summary.
        pair = await repos.meetings.lock_for_change(meeting_id)
        written = await repos.summaries.revision_of(meeting_id)
        if written is not None and written > pair.reopen_count:
            return False  # this end's summary exists: another signal, or before a restart
        if pair.status == "cancelled":
            if pressed:
                raise Conflict(
                    "This meeting was cancelled; there is nothing to end.", code="cancelled"
                )
            return False
        if only_if_live and pair.status != "live":
            log.info("meeting %s not ended by %s: it is %s", meeting_id, source, pair.status)
            return False
        writer = actor or pair.mentee_id or pair.mentor_id
        if writer is None:  # a mentorship always has its creator
            raise NotFound("meeting")
        if pressed:
            await _check_can_end(app, repos, meeting_id, writer, even_if_empty=even_if_empty)
        revision = pair.reopen_count + 1  # 1: the first end; more: after reopening
        now = now_iso()
        ended = now
        if source == "idle":  # it ended when the last person left, not when that was noticed
            left = await repos.meetings.get(meeting_id, viewer=writer)
            ended = await attendance.last_seen(repos, left) or now
        await repos.meetings.mark_ended(meeting_id, ended_at=ended, source=source)
        meeting = await repos.meetings.get(meeting_id, viewer=writer)
        mentorship = await repos.mentorships.get(meeting.mentorship_id, viewer=writer)
        people = {p: await repos.people.get(p) for p in (pair.mentor_id, pair.mentee_id) if p}
        record = await _record(app, repos, meeting, mentorship, people, writer)
        record = replace(record, corrected=revision > 1)
        reader = people[pair.mentee_id or pair.mentor_id or writer]
        body = summary_markdown(record, reader)
        await repos.summaries.save(meeting.id, body, author=actor, revision=revision)
        for person in people.values():  # each person's copy, in their own time zone
            await repos.summaries.save_copy(meeting.id, person.id, summary_markdown(record, person))
        await repos.summaries.index_for_search(
            meeting.id,
            mentorship.id,
            title=meeting.title,
            summary=searchable_summary(record),
            notes=record.notes,
        )
        base_url = app[SETTINGS].base_url
        for person in people.values():
            open_url = await signin_url_for(
                repos, app[SETTINGS], person.id, f"/meetings/{meeting.id}"
            )
            await app[OUTBOX].enqueue(
                f"summary:{meeting.id}:{person.id}{_nth(revision)}",
                summary_email(record, person, app[SETTINGS].mail_from, base_url, open_url=open_url),
                kind="summary",
                meeting_id=meeting.id,
                person_id=person.id,
            )
        if mentorship.summary_webhook_url:
            # The date of the copy posted, the mentee's (as `body`), not UTC's.
            day = meeting.scheduled_start.astimezone(ZoneInfo(reader.timezone)).date().isoformat()
            await app[OUTBOX].enqueue_webhook(
                f"webhook:{meeting.id}{_nth(revision)}",
                mentorship.summary_webhook_url,
                summary_payload(f"Summary of {meeting.title}, {day}", body, meeting.id),
                meeting_id=meeting.id,
            )
    log.info("meeting %s ended (%s); summary sent to %d people", meeting_id, source, len(people))
    await app[LIVE_EVENTS].publish("meeting", actor or "", meeting_id=meeting_id)
    return True


def _nth(revision: int) -> str:
    """The outbox key's suffix: none for the first summary (as before reopening existed), `:2`
    for the first correction... so each end sends once to each person."""
    return "" if revision == 1 else f":{revision}"


def notes_are_empty(notes: str) -> bool:
    """Nothing written beyond the dated heading the notes start with."""
    lines = [line for line in notes.splitlines() if line.strip()]
    if lines and lines[0].lstrip().startswith("# "):
        lines = lines[1:]
    return not lines


def _on(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local.day} {local:%b} at {local:%H:%M}"


async def _check_can_end(
    app: web.Application, repos: Repositories, meeting_id: str, writer: str, *, even_if_empty: bool
) -> None:
    """Refuse a stray End: before the window, or on a meeting nobody came to and nothing
    was written in (unless the person said to end it anyway)."""
    meeting = await repos.meetings.get(meeting_id, viewer=writer)
    opens = meeting.scheduled_start - attendance.EARLY_JOIN
    if utcnow() < opens:
        timezone = (await repos.people.get(writer)).timezone
        zone = ZoneInfo(timezone)
        same_day = opens.astimezone(zone).date() == meeting.scheduled_start.astimezone(zone).date()
        from_ = f"{opens.astimezone(zone):%H:%M}" if same_day else _on(opens, zone)
        raise Conflict(
            f"This meeting starts on {_on(meeting.scheduled_start, zone)} ({timezone});"
            f" it can be ended from {from_}.",
            code="too_early",
        )
    if even_if_empty or meeting.reopen_count:
        return
    if await attendance.anyone_joined(repos, meeting):
        return
    if notes_are_empty(await app[NOTE_ROOMS].read_text(meeting_id)):
        raise Conflict(
            "Nobody joined and there are no notes. Cancel this meeting instead?",
            code="nobody_joined",
        )


async def reopen_meeting(app: web.Application, meeting_id: str, *, viewer: str) -> Meeting:
    """Make an ended meeting live again, within MENTOR_SIDECAR_REOPEN_HOURS of its end.

    The next steps its end filed from the notes are taken back (the next end files them again
    from the notes as they will be); its summary stays until then."""
    repos: Repositories = app[REPOS]
    hours = app[SETTINGS].reopen_hours
    async with repos.transaction():
        await repos.meetings.lock_for_change(meeting_id)  # not while it is being ended
        meeting = await repos.meetings.get(meeting_id, viewer=viewer)
        if meeting.status != "ended":
            raise Conflict(
                f"Only an ended meeting can be reopened; this one is {meeting.status}.",
                code="not_ended",
            )
        ended = meeting.ended_at or meeting.updated_at
        if utcnow() > ended + timedelta(hours=hours):
            zone = ZoneInfo((await repos.people.get(viewer)).timezone)
            raise Conflict(
                f"This meeting ended on {_on(ended, zone)}; a meeting can be reopened for"
                f" {hours} hours after it ends.",
                code="reopen_too_late",
            )
        notes = await app[NOTE_ROOMS].read_text(meeting_id)
        filed = {_step_text(step) for step in parse_notes(notes).next_steps}
        await repos.action_items.forget_filed(meeting_id, since=ended, texts=filed)
        reopened = await repos.meetings.reopen(meeting_id, viewer=viewer)
    log.info("meeting %s reopened by %s", meeting_id, viewer)
    await app[LIVE_EVENTS].publish("meeting", viewer, meeting_id=meeting_id)
    return reopened


def _step_text(step: NextStep) -> str:
    return step.text[:2000] or "(untitled next step)"


async def gather(
    app: web.Application,
    repos: Repositories,
    meeting: Meeting,
    mentorship: Mentorship,
    people: dict[str, Person],
    viewer: str,
) -> tuple[MeetingRecord, list[NextStep]]:
    """What the summary says, read without changing anything (the wrap-up view's draft too)."""
    notes = await app[NOTE_ROOMS].read_text(meeting.id)
    outcomes = parse_notes(notes)
    agenda = await repos.agenda.list(meeting.id, viewer=viewer)
    # Next steps added in the panel during this meeting, besides those written in the notes.
    still_open = await repos.action_items.list(mentorship.id, viewer=viewer, status="open")
    explicit = [
        Step(a.text, a.owner_id, a.due_date)
        for a in still_open
        if a.created_in_meeting_id == meeting.id
    ]
    earlier = [
        Step(a.text, a.owner_id, a.due_date)
        for a in sorted(still_open, key=lambda a: (a.due_date is None, a.due_date))
        if a.created_in_meeting_id != meeting.id
    ]
    explicit_texts = {step.text for step in explicit}
    # Not one whose time has passed without it being held (ending late, or after a reopen).
    after = max(meeting.scheduled_end, utcnow())
    next_meeting = await repos.meetings.next_for(mentorship.id, after=after)
    if next_meeting is not None and next_meeting.id == meeting.id:
        next_meeting = None
    start = meeting.started_at or meeting.scheduled_start
    progress = [
        (goal.title, entry)
        for goal in await repos.goals.list(mentorship.id, viewer=viewer)
        for entry in goal.progress
        if entry.created_at >= start - timedelta(hours=12)
    ]
    record = MeetingRecord(
        meeting=meeting,
        mentorship=mentorship,
        people=people,
        attendees=await attendance.attendees(repos, meeting),
        covered=[i for i in agenda if i.done],
        carried_to_next=[i for i in agenda if not i.done and i.section in CARRIED_SECTIONS]
        if next_meeting
        else [],
        agreements=[a.text for a in await repos.meeting_agreements.list(meeting.id, viewer=viewer)]
        + outcomes.agreements,
        next_steps=explicit
        + [
            Step(s.text, _owner(s, mentorship, people), s.due, done=s.done)
            for s in sorted(outcomes.next_steps, key=lambda s: s.done)  # open ones first
            if s.text not in explicit_texts
        ],
        progress=progress,
        next_meeting=next_meeting,
        notes=notes,
        arrivals=tuple(await attendance.arrivals(repos, meeting)),
        earlier_steps=tuple(earlier),
    )
    return record, outcomes.next_steps


async def _record(
    app: web.Application,
    repos: Repositories,
    meeting: Meeting,
    mentorship: Mentorship,
    people: dict[str, Person],
    writer: str,
) -> MeetingRecord:
    """Gather the record, then file it: next steps become action items, the uncovered agenda
    moves to the next meeting."""
    record, parsed = await gather(app, repos, meeting, mentorship, people, writer)
    for step in parsed:
        action = await repos.action_items.create(
            mentorship.id,
            text=_step_text(step),
            owner_id=_owner(step, mentorship, people),
            due_date=step.due,
            created_in_meeting_id=meeting.id,
            viewer=writer,
        )
        if step.done:
            await repos.action_items.update(
                action.id, {"status": "done", "closed_in_meeting_id": meeting.id}, viewer=writer
            )
    if record.next_meeting is not None:
        nxt = record.next_meeting.id
        already = {(i.section, i.text) for i in await repos.agenda.list(nxt, viewer=writer)}
        for item in record.carried_to_next:
            if (item.section, item.text) not in already:
                await repos.agenda.add(nxt, section=item.section, text=item.text, viewer=writer)
    return record


def _owner(step: NextStep, mentorship: Mentorship, people: dict[str, Person]) -> str | None:
    if step.owner == "mentor":
        return mentorship.mentor_id
    if step.owner == "mentee":
        return mentorship.mentee_id
    if step.owner:
        for person in people.values():
            if person.name.split()[0].lower() == step.owner.lower():
                return person.id
    return None


async def end_idle_meetings(app: web.Application) -> int:
    """End live meetings nobody has had open for a while after their scheduled end."""
    settings = app[SETTINGS]
    now = utcnow()
    cutoff = now - timedelta(minutes=settings.idle_end_minutes)
    await _keep_open_panels_seen(app, now)
    candidates = await app[REPOS].meetings.idle_live(ended_before=cutoff, unseen_since=cutoff)
    ended = 0
    for meeting_id in candidates:
        room = app[NOTE_ROOMS].get(meeting_id)
        if (room is not None and room.connections) or app[LIVE_EVENTS].watching(meeting_id):
            continue  # someone still has the panel open
        ended += await end_meeting(app, meeting_id, source="idle", actor=None, only_if_live=True)
    return ended


async def _keep_open_panels_seen(app: web.Application, now: datetime) -> None:
    """A meeting running over with a panel open in this process is seen now: another process's
    idle check cannot see this one's sockets, only what attendance says."""
    open_here: dict[str, set[str]] = {}
    for socket in app[WEBSOCKETS]:
        if socket.kind in PANEL_SOCKETS and socket.meeting_id and socket.person_id:
            open_here.setdefault(socket.meeting_id, set()).add(socket.person_id)
    if not open_here:
        return
    repos: Repositories = app[REPOS]
    for meeting in await repos.meetings.live_past_end(open_here, at=now):
        for person_id in sorted(open_here[meeting.id]):
            await attendance.seen(repos, meeting, person_id)


async def watch_idle(app: web.Application) -> None:
    while True:
        await asyncio.sleep(app[SETTINGS].end_check_seconds)
        try:
            await end_idle_meetings(app)
        except Exception:
            log.exception("ending idle meetings failed")


async def idle_context(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(watch_idle(app), name="idle-meetings")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
