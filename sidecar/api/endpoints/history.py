"""The pair's record over time: the live draft of today's summary, search across past meetings,
and the whole relationship as one Markdown document to keep."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    MeetingAgreementIn,
    MeetingAgreementList,
    MeetingAgreementOut,
    SearchHit,
    SearchQuery,
    SearchResults,
    SummaryDraft,
)
from sidecar.db.search import match_expression, search_unended
from sidecar.domain.errors import NotFound
from sidecar.domain.models import MeetingAgreement
from sidecar.keys import NOTE_ROOMS
from sidecar.meeting_lifecycle import gather
from sidecar.summary.compose import summary_markdown
from sidecar.summary.markdown import shift_headings

TAGS = ("history",)


@api.route(
    "GET",
    "/meetings/{meeting_id}/summary/draft",
    summary="The summary as it stands now, for the wrap-up before hanging up (changes nothing)",
    response=SummaryDraft,
    tags=TAGS,
)
async def summary_draft(call: Call[None]) -> SummaryDraft:
    repos = call.repos
    meeting = await repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    mentorship = await repos.mentorships.get(meeting.mentorship_id, viewer=call.viewer)
    ids = [p for p in (mentorship.mentor_id, mentorship.mentee_id) if p]
    people = {p: await repos.people.get(p) for p in ids}
    record, _ = await gather(call.request.app, repos, meeting, mentorship, people, call.viewer)
    return SummaryDraft(
        meeting_id=meeting.id, body_markdown=summary_markdown(record, people[call.viewer])
    )


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/search",
    summary="Search the pair's meetings (titles, summaries, notes; words match as prefixes)",
    query=SearchQuery,
    response=SearchResults,
    tags=TAGS,
)
async def search(call: Call[None]) -> SearchResults:
    repos = call.repos
    mentorship = await repos.mentorships.get(call.path("mentorship_id"), viewer=call.viewer)
    expression = match_expression(call.query.q)
    if expression is None:  # only punctuation: nothing to look for
        return SearchResults(hits=[])
    # Meetings not ended yet are searched in their notes as they are now (live ones included).
    rooms = call.request.app[NOTE_ROOMS]
    unended = [
        (meeting, await rooms.read_text(meeting.id))
        for meeting in await repos.meetings.list(mentorship.id, viewer=call.viewer)
        if meeting.status != "ended"
    ]
    rows = await search_unended(unended, expression) + await repos.summaries.search(
        mentorship.id, expression, viewer=call.viewer
    )
    return SearchResults(hits=[SearchHit.model_validate(row, from_attributes=True) for row in rows])


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/export.md",
    summary="The whole mentorship as one Markdown document: agreement, goals, every meeting",
    tags=TAGS,
)
async def export_markdown(call: Call[None]) -> web.Response:
    repos = call.repos
    mentorship = await repos.mentorships.get(call.path("mentorship_id"), viewer=call.viewer)
    agreement = await repos.mentorships.agreement(mentorship.id, viewer=call.viewer)
    lines = [f"# {mentorship.title}", "", "## Our agreement", ""]
    for field, title in (
        ("meeting_cadence", "When we meet"),
        ("communication_channels", "How we keep in touch"),
        ("communication_frequency", "How often"),
        ("confidentiality", "Confidentiality"),
        ("feedback_and_encouragement", "Feedback and encouragement"),
        ("objectives", "Objectives"),
        ("cultural_differences", "Cultural differences"),
    ):
        lines += [f"**{title}:** {getattr(agreement, field) or '-'}", ""]
    lines += ["## Goals", ""]
    for goal in await repos.goals.list(mentorship.id, viewer=call.viewer):
        lines.append(f"### {goal.title} ({goal.status})")
        lines += [
            f"- {p.entry_date}: {p.note} ({p.status.replace('_', ' ')})" for p in goal.progress
        ]
        lines.append("")
    lines += ["## Meetings", ""]
    me = await repos.people.get(call.viewer)
    for meeting in await repos.meetings.list(mentorship.id, viewer=call.viewer):
        if meeting.status != "ended":
            continue
        # Each meeting is a "###" section: its summary's "#" moves down two levels, and with it
        # the notes' own headings, which the summary already keeps under its "## Notes".
        try:
            summary = await repos.summaries.get(meeting.id, viewer=call.viewer)
        except NotFound:
            day = meeting.scheduled_start.astimezone(ZoneInfo(me.timezone))
            notes = await call.request.app[NOTE_ROOMS].read_text(meeting.id)
            lines += [f"### {meeting.title}, {day:%A} {day.day} {day:%B %Y}", "", "#### Notes", ""]
            lines += [shift_headings(notes.strip(), 4) or "(no notes)", ""]
        else:
            lines += [shift_headings(summary.body_markdown.strip(), 2), ""]
    return web.Response(
        text="\n".join(lines),
        content_type="text/markdown",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="mentorship.md"'},
    )


@api.route(
    "GET",
    "/meetings/{meeting_id}/agreements",
    summary="Agreements written down in the panel during this meeting",
    response=MeetingAgreementList,
    tags=TAGS,
)
async def list_agreements(call: Call[None]) -> MeetingAgreementList:
    found = await call.repos.meeting_agreements.list(call.path("meeting_id"), viewer=call.viewer)
    return MeetingAgreementList(agreements=MeetingAgreementOut.all(found))


@api.route(
    "POST",
    "/meetings/{meeting_id}/agreements",
    summary="Write down an agreement (it goes into the summary)",
    body=MeetingAgreementIn,
    response=MeetingAgreementOut,
    status=201,
    example={"text": "We meet on Tuesdays at 14:30 Lisbon from December"},
    tags=TAGS,
    publishes="actions",
)
async def add_agreement(call: Call[MeetingAgreementIn]) -> MeetingAgreement:
    return await call.repos.meeting_agreements.add(
        call.path("meeting_id"), call.body.text, viewer=call.viewer
    )


@api.route(
    "PATCH",
    "/meeting-agreements/{agreement_id}",
    summary="Reword an agreement",
    body=MeetingAgreementIn,
    response=MeetingAgreementOut,
    example={"text": "We meet on Tuesdays at 15:00 Lisbon from December"},
    tags=TAGS,
    publishes="actions",
)
async def reword_agreement(call: Call[MeetingAgreementIn]) -> MeetingAgreement:
    return await call.repos.meeting_agreements.update(
        call.path("agreement_id"), call.body.text, viewer=call.viewer
    )


@api.route(
    "DELETE",
    "/meeting-agreements/{agreement_id}",
    summary="Remove an agreement",
    status=204,
    tags=TAGS,
)
async def remove_agreement(call: Call[None]) -> None:
    removed = await call.repos.meeting_agreements.delete(
        call.path("agreement_id"), viewer=call.viewer
    )
    await call.publish("actions", meeting_id=removed.meeting_id)
