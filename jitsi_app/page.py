"""The call page: the Jitsi meeting embedded with the IFrame API, the panel beside it.

The page itself is the core's one template (body[data-page=jitsi]); its script, this package's
static/call.js (declared as the platform's `front_end`, served and loaded by the core), asks
GET /api/v1/meetings/{id}/jitsi for the room and token and loads `external_api.js` from the
configured server, which the page's Content-Security-Policy allows for scripts and frames.
"""

from __future__ import annotations

from aiohttp import web

from sidecar.keys import REPOS
from sidecar.web.pages import for_members, render
from sidecar.web.security import widen_csp

from .config import JITSI

CALL_PAGE = "jitsi"  # body[data-page]: the core's page.html loads static/call.js for it


@for_members
async def call_page(request: web.Request, viewer: str) -> web.Response:
    meeting = await request.app[REPOS].meetings.get(request.match_info["meeting_id"], viewer=viewer)
    config = request.app[JITSI]
    if config.enabled:
        widen_csp(request, "script-src", config.origin)
        widen_csp(request, "frame-src", config.origin)
    return render(
        request,
        CALL_PAGE,
        title=f"Call: {meeting.title}",
        meeting_id=meeting.id,
        mentorship_id=meeting.mentorship_id,
    )
