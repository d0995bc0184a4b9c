"""The live notes, read back: as JSON for the panel and the summary, as a Markdown file to keep."""

from __future__ import annotations

from aiohttp import web

from sidecar.api.routing import Call, api
from sidecar.api.schemas import NotesOut
from sidecar.keys import NOTE_ROOMS

TAGS = ("notes",)


@api.route(
    "GET",
    "/meetings/{meeting_id}/notes",
    summary="The meeting's shared notes as Markdown text",
    response=NotesOut,
    tags=TAGS,
)
async def get_notes(call: Call[None]) -> NotesOut:
    meeting = await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    markdown = await call.request.app[NOTE_ROOMS].read_text(meeting.id)
    return NotesOut(meeting_id=meeting.id, markdown=markdown)


@api.route(
    "GET",
    "/meetings/{meeting_id}/notes.md",
    summary="Download the meeting's shared notes as a Markdown file",
    tags=TAGS,
)
async def download_notes(call: Call[None]) -> web.Response:
    meeting = await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    markdown = await call.request.app[NOTE_ROOMS].read_text(meeting.id)
    filename = f"notes-{meeting.scheduled_start.date().isoformat()}-{meeting.id}.md"
    return web.Response(
        text=markdown,
        content_type="text/markdown",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
