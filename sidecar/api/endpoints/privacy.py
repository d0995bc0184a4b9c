"""A person's data is theirs: take all of it away in one archive, or erase a mentorship or
one's whole profile (after a grace period in which it can be undone; see sidecar/erasure.py)."""

from __future__ import annotations

from aiohttp import web

from sidecar import erasure, privacy
from sidecar.api.endpoints.views import erasure_plan
from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    ErasurePlan,
    MentorshipDeletion,
    ProfileDeletion,
    ProfileErasurePlan,
)

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
    "summaries, emails waiting to go out), for both people. The other person is emailed; "
    "the erasure happens after MENTOR_SIDECAR_ERASE_GRACE_DAYS (202 with the date; either "
    "person can undo until then), or at once when that is 0 (204)",
    body=MentorshipDeletion,
    response=ErasurePlan,
    example={"confirm": True},
    status=202,
    tags=TAGS,
)
async def delete_mentorship(call: Call[MentorshipDeletion]) -> ErasurePlan | None:
    mentorship = await call.repos.mentorships.get(call.path("mentorship_id"), viewer=call.viewer)
    planned = await erasure.request_mentorship_erasure(call.request.app, mentorship, call.viewer)
    if planned is None:
        return None
    await call.publish("erasure", mentorship_id=mentorship.id)  # the other panel's banner
    return await erasure_plan(call.repos, mentorship.id, call.viewer)


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/erasure/undo",
    summary="Keep the mentorship: cancel its planned erasure (either person; 409 when the "
    "other person is erasing their profile, or the erasure has begun)",
    status=204,
    tags=TAGS,
)
async def undo_mentorship_erasure(call: Call[None]) -> None:
    mentorship = await call.repos.mentorships.get(call.path("mentorship_id"), viewer=call.viewer)
    await erasure.undo_mentorship_erasure(call.request.app, mentorship, call.viewer)
    await call.publish("erasure", mentorship_id=mentorship.id)


@api.route(
    "DELETE",
    "/me",
    summary="Erase my profile, photo, sign-ins and every mentorship of mine; the other people "
    "are emailed. After MENTOR_SIDECAR_ERASE_GRACE_DAYS (202; only I can undo), or at once "
    "when that is 0 (204)",
    body=ProfileDeletion,
    response=ProfileErasurePlan,
    example={"confirm": True},
    status=202,
    tags=TAGS,
)
async def delete_profile(call: Call[ProfileDeletion]) -> ProfileErasurePlan | None:
    planned = await erasure.request_profile_erasure(call.request.app, call.viewer)
    if planned is None:
        return None
    await _publish_erasures(call)
    return ProfileErasurePlan(erase_after=planned.erase_after)


@api.route(
    "POST",
    "/me/erasure/undo",
    summary="Keep my profile: cancel its planned erasure and that of my mentorships",
    status=204,
    tags=TAGS,
)
async def undo_profile_erasure(call: Call[None]) -> None:
    mentorship_ids = await call.repos.erasures.mentorship_ids_of(call.viewer)
    await erasure.undo_profile_erasure(call.request.app, call.viewer)
    for mentorship_id in mentorship_ids:
        await call.publish("erasure", mentorship_id=mentorship_id)


async def _publish_erasures(call: Call[ProfileDeletion]) -> None:
    """The other people's open panels show the banner at once."""
    for mentorship_id in await call.repos.erasures.mentorship_ids_of(call.viewer):
        await call.publish("erasure", mentorship_id=mentorship_id)
