"""Meetings, their agenda and (once written) their summary."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sidecar import reminders
from sidecar.api.auth import public_origin
from sidecar.api.errors import ApiError
from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    ActionItemOut,
    AgendaCreate,
    AgendaItemOut,
    AgendaList,
    AgendaPatch,
    Delivery,
    EndMeeting,
    MeetingCreate,
    MeetingList,
    MeetingOut,
    MeetingPatch,
    ScheduleCreate,
    ScheduleOut,
    SummaryOut,
)
from sidecar.cancellation import cancel_meeting, replace_upcoming
from sidecar.db.repositories import Repositories
from sidecar.domain.errors import Conflict, Invalid
from sidecar.domain.ids import iso, new_id, utcnow
from sidecar.domain.models import ActionItem, AgendaItem, Meeting
from sidecar.domain.schedule import Phase, series
from sidecar.keys import OUTBOX, PLATFORMS
from sidecar.mail.agenda import agenda_email
from sidecar.mail.signin_links import signin_url_for
from sidecar.meeting_lifecycle import end_meeting, reopen_meeting

TAGS = ("meetings",)


def offered_platform(call: Call[Any], platform: str) -> None:
    """A meeting's platform is "link" or one of the platforms this service runs."""
    offered = ["link", *(active.name for active in call.request.app[PLATFORMS])]
    if platform not in offered:
        raise Invalid(
            "platform",
            f"{platform!r} is not a call platform of this service; one of {', '.join(offered)}",
            words="That kind of call is not available here. Choose another.",
        )


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/meetings",
    summary="The pair's meetings, oldest first",
    response=MeetingList,
    tags=TAGS,
)
async def list_meetings(call: Call[None]) -> MeetingList:
    found = await call.repos.meetings.list(call.path("mentorship_id"), viewer=call.viewer)
    return MeetingList(meetings=MeetingOut.all(found))


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/meetings",
    summary="Schedule a meeting",
    body=MeetingCreate,
    response=MeetingOut,
    status=201,
    example={
        "title": "Weekly check-in",
        "scheduled_start": "2026-12-01T15:00:00Z",
        "scheduled_end": "2026-12-01T15:45:00Z",
        # "link" is on every service; "zoom", "jitsi" or another only where that platform runs.
        "platform": "link",
        "join_url": "https://meet.example.org/weekly-check-in",
    },
    tags=TAGS,
    publishes="meeting",
)
async def create_meeting(call: Call[MeetingCreate]) -> Meeting:
    body = call.body
    offered_platform(call, body.platform)
    meeting = await call.repos.meetings.create(
        call.path("mentorship_id"),
        title=body.title,
        scheduled_start=body.scheduled_start,
        scheduled_end=body.scheduled_end,
        platform=body.platform,
        join_url=str(body.join_url) if body.join_url else None,
        viewer=call.viewer,
    )
    await reminders.schedule(call.repos, meeting, call.settings)
    return meeting


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/schedule",
    summary="Schedule a series that meets more often at the start (weekly, then every two"
    " weeks); it replaces the upcoming meetings of an earlier series",
    body=ScheduleCreate,
    response=ScheduleOut,
    status=201,
    example={"first_start": "2030-01-08T14:00", "timezone": "Europe/Lisbon"},
    tags=TAGS,
    publishes="meeting",
)
async def create_schedule(call: Call[ScheduleCreate]) -> ScheduleOut:
    body = call.body
    offered_platform(call, body.platform)
    phases = [Phase(p.every_weeks, p.count) for p in body.phases]
    starts = series(body.first_start, body.timezone, phases)
    now = utcnow()
    if starts[0] <= now and not body.allow_past:
        raise Invalid(
            "first_start",
            f"{body.first_start:%Y-%m-%d %H:%M} in {body.timezone} is in the past; pick a later"
            " date (or send allow_past: true to plan it anyway)",
            words="That is in the past. Choose a later date and time for the first meeting.",
        )
    mentorship_id = call.path("mentorship_id")
    series_id = new_id()
    created = []
    async with call.repos.transaction():
        for start in starts:
            meeting = await call.repos.meetings.create(
                mentorship_id,
                title=body.title,
                scheduled_start=start,
                scheduled_end=start + timedelta(minutes=body.duration_minutes),
                platform=body.platform,
                join_url=str(body.join_url) if body.join_url else None,
                viewer=call.viewer,
                series_id=series_id,
            )
            await reminders.schedule(call.repos, meeting, call.settings)
            created.append(meeting)
        first_upcoming = next((m for m in created if m.scheduled_start > now), created[-1])
        replaced = await replace_upcoming(
            call.request.app,
            mentorship_id,
            series_id=series_id,
            first_of_series=first_upcoming,
            after=now,
            viewer=call.viewer,
        )
    return ScheduleOut(meetings=MeetingOut.all(created), replaced=MeetingOut.all(replaced))


@api.route("GET", "/meetings/{meeting_id}", summary="One meeting", response=MeetingOut, tags=TAGS)
async def get_meeting(call: Call[None]) -> Meeting:
    return await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)


@api.route(
    "PATCH",
    "/meetings/{meeting_id}",
    summary="Move, rename or change the status of a meeting",
    body=MeetingPatch,
    response=MeetingOut,
    example={"title": "Check-in (moved)"},
    tags=TAGS,
    publishes="meeting",
)
async def patch_meeting(call: Call[MeetingPatch]) -> Meeting:
    changes = call.body.changes()
    if "platform" in changes:
        offered_platform(call, changes["platform"])
    # A cancelled meeting is refused (409) by the repository: plan a new one instead.
    meeting = await call.repos.meetings.update(call.path("meeting_id"), changes, viewer=call.viewer)
    await reminders.schedule(call.repos, meeting, call.settings)
    return meeting


@api.route(
    "POST",
    "/meetings/{meeting_id}/agenda/send",
    summary="Email the agenda to the other person and record when it went out",
    response=MeetingOut,
    tags=TAGS,
    publishes="meeting",
)
async def send_agenda(call: Call[None]) -> Meeting:
    repos = call.repos
    meeting = await repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    if meeting.status == "cancelled":
        raise Conflict("This meeting was cancelled; there is no call to prepare.", code="cancelled")
    mentorship = await repos.mentorships.get(meeting.mentorship_id, viewer=call.viewer)
    other_id = mentorship.mentor_id if call.viewer == mentorship.mentee_id else mentorship.mentee_id
    if other_id is None:
        raise Invalid("meeting_id", "the other person has not joined yet; send them the invite")
    people = {p: await repos.people.get(p) for p in (call.viewer, other_id)}
    message = agenda_email(
        mail_from=call.settings.mail_from,
        meeting=meeting,
        sender=people[call.viewer],
        recipient=people[other_id],
        items=await repos.agenda.list(meeting.id, viewer=call.viewer),
        carried_over=await carried_over(repos, meeting, call.viewer),
        goals=await repos.goals.list(meeting.mentorship_id, viewer=call.viewer),
        people=people,
        panel_url=await signin_url_for(
            repos,
            call.settings,
            other_id,
            f"/meetings/{meeting.id}",
            base_url=public_origin(call.request),
        ),
    )
    async with repos.transaction():
        # Checked under the meeting's lock, so a burst of sends cannot slip through together.
        await repos.meetings.lock_for_change(meeting.id)
        current = await repos.meetings.get(meeting.id, viewer=call.viewer)
        wait = resend_wait(current, call.settings.agenda_resend_minutes)
        if wait:
            minutes = -(-wait // 60)
            raise ApiError(
                429,
                f"the agenda was emailed moments ago; it can be sent again in {minutes} min",
                {"Retry-After": str(wait)},
            )
        sent = await repos.meetings.mark_agenda_sent(meeting.id, viewer=call.viewer)
        # Keyed by the send time: sending again after edits sends the new agenda.
        await call.request.app[OUTBOX].enqueue(
            f"agenda:{meeting.id}:{iso(sent.agenda_sent_at or utcnow())}",
            message,
            kind="agenda",
            meeting_id=meeting.id,
            person_id=other_id,
        )
    return sent


def resend_wait(meeting: Meeting, minutes: int) -> int:
    """Whole seconds until the agenda may be emailed again (0: now), one send per `minutes`."""
    if minutes <= 0 or meeting.agenda_sent_at is None:
        return 0
    left = meeting.agenda_sent_at + timedelta(minutes=minutes) - utcnow()
    return max(0, math.ceil(left.total_seconds()))


@api.route(
    "GET",
    "/meetings/{meeting_id}/agenda",
    summary="The agenda, in section order",
    response=AgendaList,
    tags=TAGS,
)
async def list_agenda(call: Call[None]) -> AgendaList:
    meeting = await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    return AgendaList(
        items=AgendaItemOut.all(await call.repos.agenda.list(meeting.id, viewer=call.viewer)),
        carried_over=ActionItemOut.all(await carried_over(call.repos, meeting, call.viewer)),
    )


async def carried_over(repos: Repositories, meeting: Meeting, viewer: str) -> list[ActionItem]:
    """Next steps still open from earlier meetings, and those closed in this one."""
    items = await repos.action_items.list(meeting.mentorship_id, viewer=viewer)
    return [
        item
        for item in items
        if item.created_in_meeting_id != meeting.id
        and (item.status == "open" or item.closed_in_meeting_id == meeting.id)
    ]


@api.route(
    "POST",
    "/meetings/{meeting_id}/agenda",
    summary="Add an agenda item",
    body=AgendaCreate,
    response=AgendaItemOut,
    status=201,
    example={"section": "topics", "text": "How to say no to extra projects"},
    tags=TAGS,
    publishes="agenda",
)
async def add_agenda_item(call: Call[AgendaCreate]) -> AgendaItem:
    return await call.repos.agenda.add(
        call.path("meeting_id"), section=call.body.section, text=call.body.text, viewer=call.viewer
    )


@api.route(
    "PATCH",
    "/agenda-items/{agenda_item_id}",
    summary="Tick, edit or move an agenda item",
    body=AgendaPatch,
    response=AgendaItemOut,
    example={"done": True},
    tags=TAGS,
    publishes="agenda",
)
async def patch_agenda_item(call: Call[AgendaPatch]) -> AgendaItem:
    return await call.repos.agenda.update(
        call.path("agenda_item_id"), call.body.changes(), viewer=call.viewer
    )


@api.route(
    "DELETE",
    "/agenda-items/{agenda_item_id}",
    summary="Remove an agenda item",
    status=204,
    tags=TAGS,
)
async def delete_agenda_item(call: Call[None]) -> None:
    item = await call.repos.agenda.get(call.path("agenda_item_id"), viewer=call.viewer)
    await call.repos.agenda.delete(item.id, viewer=call.viewer)
    await call.publish("agenda", meeting_id=item.meeting_id)


@api.route(
    "POST",
    "/meetings/{meeting_id}/end",
    summary="End the meeting: the summary goes to both people (once, however often this is"
    " called). 409 before its window opens (code too_early), for a cancelled one (cancelled),"
    " and when nobody joined and nothing was written (nobody_joined; even_if_empty ends it)",
    body=EndMeeting,
    response=MeetingOut,
    tags=TAGS,
)
async def end_meeting_now(call: Call[EndMeeting]) -> Meeting:
    meeting = await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    await end_meeting(
        call.request.app,
        meeting.id,
        source="panel",
        actor=call.viewer,
        pressed=True,
        even_if_empty=call.body.even_if_empty,
    )
    return await call.repos.meetings.get(meeting.id, viewer=call.viewer)


@api.route(
    "POST",
    "/meetings/{meeting_id}/reopen",
    summary="Reopen an ended meeting (within MENTOR_SIDECAR_REOPEN_HOURS): it is live again, and"
    " ending it again sends the summary once more, marked corrected",
    response=MeetingOut,
    tags=TAGS,
)
async def reopen(call: Call[None]) -> Meeting:
    return await reopen_meeting(call.request.app, call.path("meeting_id"), viewer=call.viewer)


@api.route(
    "POST",
    "/meetings/{meeting_id}/cancel",
    summary="Cancel a meeting not held: both people are emailed an iCalendar CANCEL, its"
    " reminders are dropped, the other meetings keep their dates (once, however often called)",
    response=MeetingOut,
    tags=TAGS,
)
async def cancel(call: Call[None]) -> Meeting:
    return await cancel_meeting(call.request.app, call.path("meeting_id"), viewer=call.viewer)


@api.route(
    "GET",
    "/meetings/{meeting_id}/summary",
    summary="The summary written when the meeting ended, with its delivery state (404 until then)",
    response=SummaryOut,
    tags=TAGS,
)
async def get_summary(call: Call[None]) -> SummaryOut:
    meeting_id = call.path("meeting_id")
    meeting = await call.repos.meetings.get(meeting_id, viewer=call.viewer)
    summary = await call.repos.summaries.get(meeting_id, viewer=call.viewer)
    # Each person's latest summary email: after a reopen, the corrected one.
    delivery = [
        Delivery(
            person_id=sent.person_id,
            recipient=sent.recipient,
            state="sent" if sent.sent_at else ("retrying" if sent.attempts else "queued"),
            attempts=sent.attempts,
            last_error=sent.last_error,
            sent_at=sent.sent_at,
        )
        for sent in await call.repos.summaries.deliveries(meeting.id)
    ]
    return SummaryOut(
        meeting_id=summary.meeting_id,
        body_markdown=summary.body_markdown,
        created_at=summary.created_at,
        delivery=delivery,
        corrected=summary.revision > 1,
        reopen_until=(
            meeting.ended_at + timedelta(hours=call.settings.reopen_hours)
            if meeting.status == "ended" and meeting.ended_at
            else None
        ),
    )
