"""Jitsi as a platform of Mentor Sidecar: the call page beside the panel, room tokens for the
pair, and what the call reports (to the core's sidecar/call_events.py).

- `settings.py`   MENTOR_SIDECAR_JITSI_* (the server, its tokens, event_sync's secret)
- `config.py`     the server (self-hosted with token auth, or JaaS), read from the settings
- `tokens.py`     each person's short-lived room JWT
- `rooms.py`      each meeting's unguessable room and who of the pair is who
- `store.py`      its SQL (the rooms table of migrations.py) and privacy declaration
- `api.py`        GET/POST /api/v1/meetings/{id}/jitsi[/events] for the call page
- `events.py`     POST /jitsi/events/* from Prosody's event_sync module (bearer secret)
- `page.py`       GET /meetings/{id}/call
- `static/`       its browser code, served by the core (`front_end`): `call.js` draws the call
                  page, `panel.js` adds "Open the video call" to the meeting panel

The core finds it through the entry point `mentor_sidecar.platforms: jitsi` (pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from sidecar.platforms.hookspecs import FrontEnd
from sidecar.settings import SettingsGroup

from . import api as _api  # noqa: F401  (registers the API endpoints)
from . import events, page
from .config import JITSI, JitsiConfig
from .migrations import MIGRATIONS
from .settings import JitsiSettings
from .store import JITSI_PRIVACY, store_context


class JitsiPlatform:
    name = "jitsi"
    settings_model = JitsiSettings
    migrations = MIGRATIONS
    privacy = JITSI_PRIVACY
    # Its browser code (static/): the call page, and the panel's link to it.
    front_end = FrontEnd(
        Path(__file__).parent / "static",
        {page.CALL_PAGE: ("call.js",), "panel": ("panel.js",)},
    )

    def install(self, app: web.Application, settings: SettingsGroup) -> None:
        """Read the Jitsi settings (a bad one stops the start), add the page and webhook."""
        if not isinstance(settings, JitsiSettings):
            raise TypeError(f"jitsi: expected JitsiSettings, got {type(settings).__name__}")
        app[JITSI] = JitsiConfig.from_settings(settings)
        app.cleanup_ctx.append(store_context)  # after the database's (create_app adds it first)
        app.router.add_get("/meetings/{meeting_id}/call", page.call_page)
        events.add_routes(app)


PLATFORM = JitsiPlatform()
