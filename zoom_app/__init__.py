"""Zoom as a platform of Mentor Sidecar: the panel as a Zoom App (Home URL, OAuth in the browser
and in the client), and the event webhook, whose joins, leaves and ends it reports to the core's
sidecar/call_events.py.

Its browser code (`front_end`) is its own: `static_src/` (the Zoom pages, the SDK bridge, the
profile page's Zoom card) is bundled by web/build.mjs into `static/`, which the core serves under
/static/platforms/zoom/ and loads on those pages only (the SDK chunk only inside Zoom).

The core finds it through the entry point `mentor_sidecar.platforms: zoom` (pyproject.toml);
importing this package registers its JSON endpoints (zoom_app.api) in the API registry, served
only where the platform is enabled.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from sidecar.platforms.hookspecs import FrontEnd
from sidecar.settings import SettingsGroup
from zoom_app import api as _api  # noqa: F401  (registers /api/v1 endpoints)
from zoom_app import home, oauth, webhook
from zoom_app.migrations import MIGRATIONS
from zoom_app.settings import ZoomSettings
from zoom_app.store import ZOOM_PRIVACY
from zoom_app.web import PAGES


class ZoomPlatform:
    name = "zoom"
    settings_model = ZoomSettings
    migrations = MIGRATIONS
    privacy = ZOOM_PRIVACY
    # Its browser code (static/, built from static_src/): its pages, and the profile's Zoom card.
    front_end = FrontEnd(
        Path(__file__).parent / "static",
        {
            **dict.fromkeys(PAGES, ("pages.js",)),
            "profile": ("profile.js",),
        },
    )

    def install(self, app: web.Application, settings: SettingsGroup) -> None:
        if not isinstance(settings, ZoomSettings):
            raise TypeError(f"zoom: expected ZoomSettings, got {type(settings).__name__}")
        # After the database's cleanup context (create_app adds it first): it stores into it.
        app.cleanup_ctx.append(webhook.zoom_context(settings))
        app.router.add_get("/zoom/home", home.home)
        app.router.add_get("/zoom/install", oauth.install)
        app.router.add_get("/zoom/oauth/callback", oauth.callback)
        app.router.add_post("/zoom/oauth/in-client/start", oauth.in_client_start)
        app.router.add_post("/zoom/oauth/in-client/finish", oauth.in_client_finish)
        app.router.add_post("/zoom/webhook", webhook.receive)


PLATFORM = ZoomPlatform()
