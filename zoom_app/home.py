"""The Home URL (`/zoom/home`): what the Zoom client opens in its side panel.

Zoom sends the encrypted `x-zoom-app-context` header with the request. A valid one names the Zoom
user: a linked one is signed in and gets the panel; an unknown one gets the "link your account"
page and no session at all, so nobody's data. A tampered or expired header is refused. Without
the header (a plain browser, or a reload inside Zoom) the session cookie decides.
"""

from __future__ import annotations

import logging

from aiohttp import web

from sidecar.api.auth import SESSION_COOKIE, identify
from sidecar.web.pages import render
from sidecar.web.security import widen_csp
from zoom_app.crypto import ContextError, decrypt_context
from zoom_app.web import (
    CONTEXT_COOKIE,
    HOME_PAGE,
    LINK_PAGE,
    problem,
    set_signed_cookie,
    start_session,
    zoom,
)

log = logging.getLogger(__name__)
CONTEXT_HEADER = "x-zoom-app-context"
# Where the panel may be framed: Zoom's web client and its app surfaces (the desktop client
# loads it top-level in its own webview).
ZOOM_FRAME_ANCESTORS = ("'self'", "https://zoom.us", "https://*.zoom.us")
TITLE = "Mentor Sidecar"


async def home(request: web.Request) -> web.StreamResponse:
    widen_csp(request, "frame-ancestors", *ZOOM_FRAME_ANCESTORS)
    state = zoom(request)
    header = request.headers.get(CONTEXT_HEADER)
    if header is None:
        identity = await identify(request)
        if identity is None:
            return render(request, LINK_PAGE, title="Link your Zoom account")
        return render(request, HOME_PAGE, title=TITLE)
    try:
        context = decrypt_context(header, state.settings.zoom_client_secret)
    except ContextError as exc:
        log.warning("refused an x-zoom-app-context header: %s", exc)
        return problem(request, 401, "This Zoom session could not be verified. Open the app again")
    person_id = await state.store.person_for_zoom_user(context.uid)
    seconds = max(60, min(3600, (context.exp - context.ts) // 1000 if context.ts else 300))
    if person_id is None:
        response = render(request, LINK_PAGE, title="Link your Zoom account")
        # An unknown Zoom user gets no session: a cookie left by someone else in this webview
        # must not show them that person's mentorships.
        response.del_cookie(SESSION_COOKIE, path="/")
    else:
        response = render(request, HOME_PAGE, title=TITLE)
        await start_session(request, response, person_id, in_zoom=True)
    set_signed_cookie(
        response,
        request,
        CONTEXT_COOKIE,
        {"uid": context.uid, "mid": context.mid, "typ": context.typ},
        seconds=int(seconds),
        in_zoom=True,
    )
    return response
