"""Ending a meeting: however many signals arrive, one summary per meeting, one email per person.

Everything happens in one transaction under the database's single-writer lock: mark the meeting
ended, read the notes, turn `- [ ]` lines into next steps, carry uncovered agenda items into the
next meeting, store the summary, and enqueue each person's email under `summary:{meeting}:{person}`.
A second signal, concurrent or after a restart, finds the summary and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from sidecar.db.repositories import Repositories
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import iso, now_iso, utcnow
from sidecar.domain.models import Meeting, Mentorship, Person
from sidecar.keys import LIVE_EVENTS, NOTE_ROOMS, OUTBOX, REPOS, SETTINGS
from sidecar.mail.webhook import summary_payload
from sidecar.summary import attendance
from sidecar.summary.compose import MeetingRecord, Step, summary_email, summary_markdown
from sidecar.summary.parse import NextStep, parse_notes

log = logging.getLogger(__name__)
SOURCES = frozenset({"panel", "idle", "zoom", "jitsi"})


async def end_meeting(
    app: web.Application, meeting_id: str, *, source: str, actor: str | None
) -> bool:
    """End the meeting and send its summary; False when that had already happened."""
    assert source in SOURCES
    repos: Repositories = app[REPOS]
    db = repos.db
    async with db.transaction():
        pair = await db.fetch_one(
            "SELECT ms.mentor_id, ms.mentee_id FROM meetings mt JOIN mentorships ms"
            " ON ms.id = mt.mentorship_id WHERE mt.id = ?",
            (meeting_id,),
        )
        if pair is None:
            raise NotFound("meeting")
        if await db.fetch_value("SELECT 1 FROM summaries WHERE meeting_id = ?", (meeting_id,)):
            return False
        writer = actor or pair["mentee_id"] or pair["mentor_id"]
        now = now_iso()
        await db.execute(
            "UPDATE meetings SET status = 'ended', ended_at = COALESCE(ended_at, ?),"
            " ended_by = COALESCE(ended_by, ?), updated_at = ? WHERE id = ?",
            (now, source, now, meeting_id),
        )
        meeting = await repos.meetings.get(meeting_id, viewer=writer)
        mentorship = await repos.mentorships.get(meeting.mentorship_id, viewer=writer)
        people = {p: await repos.people.get(p) for p in (pair["mentor_id"], pair["mentee_id"]) if p}
        record = await _record(app, repos, meeting, mentorship, people, writer)
        reader = people.get(pair["mentee_id"]) or people[pair["mentor_id"]]
        body = summary_markdown(record, reader)
        await repos.summaries.save(meeting.id, body, author=actor)
        await db.execute(
            "INSERT INTO meeting_search (meeting_id, mentorship_id, title, summary, notes)"
            " VALUES (?, ?, ?, ?, ?)",
            (meeting.id, mentorship.id, meeting.title, body, record.notes),
        )
        base_url = app[SETTINGS].base_url
        for person in people.values():
            await app[OUTBOX].enqueue(
                f"summary:{meeting.id}:{person.id}",
                summary_email(record, person, app[SETTINGS].mail_from, base_url),
                kind="summary",
                meeting_id=meeting.id,
                person_id=person.id,
            )
        if mentorship.summary_webhook_url:
            day = meeting.scheduled_start.date().isoformat()
            await app[OUTBOX].enqueue_webhook(
                f"webhook:{meeting.id}",
                mentorship.summary_webhook_url,
                summary_payload(f"Summary of {meeting.title}, {day}", body, meeting.id),
                meeting_id=meeting.id,
            )
    log.info("meeting %s ended (%s); summary sent to %d people", meeting_id, source, len(people))
    await app[LIVE_EVENTS].publish("meeting", actor or "", meeting_id=meeting_id)
    return True


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
    explicit = [
        Step(a.text, a.owner_id, a.due_date)
        for a in await repos.action_items.list(mentorship.id, viewer=viewer, status="open")
        if a.created_in_meeting_id == meeting.id
    ]
    explicit_texts = {step.text for step in explicit}
    next_meeting = await repos.meetings.next_for(mentorship.id, after=meeting.scheduled_end)
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
        attendees=await attendance.attendees(repos.db, meeting.id),
        covered=[i for i in agenda if i.done],
        carried_to_next=[i for i in agenda if not i.done] if next_meeting else [],
        agreements=[a.text for a in await repos.meeting_agreements.list(meeting.id, viewer=viewer)]
        + outcomes.agreements,
        next_steps=explicit
        + [
            Step(s.text, _owner(s, mentorship, people), s.due)
            for s in outcomes.next_steps
            if not s.done and s.text not in explicit_texts
        ],
        progress=progress,
        next_meeting=next_meeting,
        notes=notes,
        arrivals=tuple(await attendance.arrivals(repos.db, meeting)),
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
            text=step.text[:2000] or "(untitled next step)",
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
    cutoff = iso(utcnow() - timedelta(minutes=settings.idle_end_minutes))
    rows = await app[REPOS].db.fetch_all(
        "SELECT mt.id FROM meetings mt WHERE mt.status = 'live' AND mt.scheduled_end <= ?"
        " AND NOT EXISTS (SELECT 1 FROM meeting_attendance a WHERE a.meeting_id = mt.id"
        " AND a.last_seen_at > ?)",
        (cutoff, cutoff),
    )
    ended = 0
    for row in rows:
        room = app[NOTE_ROOMS].get(row["id"])
        if (room is not None and room.connections) or app[LIVE_EVENTS].watching(row["id"]):
            continue  # someone still has the panel open
        ended += await end_meeting(app, row["id"], source="idle", actor=None)
    return ended


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
