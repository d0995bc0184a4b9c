"""A person's data is theirs: take all of it away in one archive, or erase a mentorship."""

from __future__ import annotations

from aiohttp import web

from sidecar import privacy
from sidecar.api.routing import Call, api
from sidecar.api.schemas import MentorshipDeletion

TAGS = ("privacy",)


@api.route(
    "GET",
    "/me/export",
    summary="Everything the service holds about me and my mentorships, as one zip archive",
    tags=TAGS,
)
async def export_everything(call: Call[None]) -> web.Response:
    archive = await privacy.export_archive(call.request.app, call.viewer)
    return web.Response(
        body=archive.data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{archive.filename}"'},
    )


@api.route(
    "DELETE",
    "/mentorships/{mentorship_id}",
    summary="Erase the mentorship and everything of it (agreement, goals, meetings, notes, "
    "summaries, emails waiting to go out), for both people; cannot be undone",
    body=MentorshipDeletion,
    example={"confirm": True},
    status=204,
    tags=TAGS,
)
async def delete_mentorship(call: Call[MentorshipDeletion]) -> None:
    mentorship = await call.repos.mentorships.get(call.path("mentorship_id"), viewer=call.viewer)
    await privacy.delete_mentorship(call.request.app, mentorship.id)
