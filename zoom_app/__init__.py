"""The panel as a Zoom App: the Home URL, OAuth (browser and in-client), the event webhook.

`install(app)` adds the routes and the cleanup context (Zoom state + webhook worker); importing
this package registers the JSON endpoints (zoom_app.api) in the API registry.
"""

from __future__ import annotations

from aiohttp import web

from zoom_app import api as _api  # noqa: F401  (registers /api/v1 endpoints)
from zoom_app import home, oauth, webhook


def install(app: web.Application) -> None:
    app.cleanup_ctx.append(webhook.zoom_context)  # after the database's: it stores into it
    app.router.add_get("/zoom/home", home.home)
    app.router.add_get("/zoom/install", oauth.install)
    app.router.add_get("/zoom/oauth/callback", oauth.callback)
    app.router.add_post("/zoom/oauth/in-client/start", oauth.in_client_start)
    app.router.add_post("/zoom/oauth/in-client/finish", oauth.in_client_finish)
    app.router.add_post("/zoom/webhook", webhook.receive)
