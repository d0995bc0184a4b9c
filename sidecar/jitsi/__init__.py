"""Jitsi: the call page beside the panel, room tokens for the pair, and the call's end events.

- `config.py`   the server (self-hosted with token auth, or JaaS), read from the settings
- `tokens.py`   each person's short-lived room JWT
- `rooms.py`    each meeting's unguessable room (migration 11) and who of the pair is who
- (what the call events mean for the meeting is the core's: sidecar/call_events.py)
- `api.py`      GET/POST /api/v1/meetings/{id}/jitsi[/events] for the call page
- `events.py`   POST /jitsi/events/* from Prosody's event_sync module (bearer secret)
- `page.py`     GET /meetings/{id}/call
"""

from __future__ import annotations

from aiohttp import web

from sidecar.keys import JITSI, SETTINGS

from . import api as _api  # noqa: F401  (registers the API endpoints)
from . import events, page
from .config import JitsiConfig


def add_routes(app: web.Application) -> None:
    """Read the Jitsi settings (a bad one stops the start) and add the page and webhook routes."""
    app[JITSI] = JitsiConfig.from_settings(app[SETTINGS])
    app.router.add_get("/meetings/{meeting_id}/call", page.call_page)
    events.add_routes(app)
