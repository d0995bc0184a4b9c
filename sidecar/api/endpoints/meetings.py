"""Meetings, their agenda and (once written) their summary."""

from __future__ import annotations

from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    AgendaCreate,
    AgendaList,
    AgendaPatch,
    MeetingCreate,
    MeetingList,
    MeetingPatch,
)
from sidecar.domain.models import AgendaItem, Meeting, Summary

TAGS = ("meetings",)


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/meetings",
    summary="The pair's meetings, oldest first",
    response=MeetingList,
    tags=TAGS,
)
async def list_meetings(call: Call[None]) -> MeetingList:
    found = await call.repos.meetings.list(call.path("mentorship_id"), viewer=call.viewer)
    return MeetingList(meetings=found)


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/meetings",
    summary="Schedule a meeting",
    body=MeetingCreate,
    response=Meeting,
    status=201,
    example={
        "title": "Weekly check-in",
        "scheduled_start": "2026-12-01T15:00:00Z",
        "scheduled_end": "2026-12-01T15:45:00Z",
        "platform": "jitsi",
    },
    tags=TAGS,
)
async def create_meeting(call: Call[MeetingCreate]) -> Meeting:
    body = call.body
    return await call.repos.meetings.create(
        call.path("mentorship_id"),
        title=body.title,
        scheduled_start=body.scheduled_start,
        scheduled_end=body.scheduled_end,
        platform=body.platform,
        join_url=str(body.join_url) if body.join_url else None,
        viewer=call.viewer,
    )


@api.route("GET", "/meetings/{meeting_id}", summary="One meeting", response=Meeting, tags=TAGS)
async def get_meeting(call: Call[None]) -> Meeting:
    return await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)


@api.route(
    "PATCH",
    "/meetings/{meeting_id}",
    summary="Move, rename or change the status of a meeting",
    body=MeetingPatch,
    response=Meeting,
    example={"title": "Check-in (moved)"},
    tags=TAGS,
)
async def patch_meeting(call: Call[MeetingPatch]) -> Meeting:
    return await call.repos.meetings.update(
        call.path("meeting_id"), call.body.changes(), viewer=call.viewer
    )


@api.route(
    "GET",
    "/meetings/{meeting_id}/agenda",
    summary="The agenda, in section order",
    response=AgendaList,
    tags=TAGS,
)
async def list_agenda(call: Call[None]) -> AgendaList:
    return AgendaList(
        items=await call.repos.agenda.list(call.path("meeting_id"), viewer=call.viewer)
    )


@api.route(
    "POST",
    "/meetings/{meeting_id}/agenda",
    summary="Add an agenda item",
    body=AgendaCreate,
    response=AgendaItem,
    status=201,
    example={"section": "topics", "text": "How to say no to extra projects"},
    tags=TAGS,
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
    response=AgendaItem,
    example={"done": True},
    tags=TAGS,
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
    await call.repos.agenda.delete(call.path("agenda_item_id"), viewer=call.viewer)


@api.route(
    "GET",
    "/meetings/{meeting_id}/summary",
    summary="The summary written when the meeting ended (404 until then)",
    response=Summary,
    tags=TAGS,
)
async def get_summary(call: Call[None]) -> Summary:
    meeting_id = call.path("meeting_id")
    await call.repos.meetings.get(meeting_id, viewer=call.viewer)
    return await call.repos.summaries.get(meeting_id, viewer=call.viewer)
