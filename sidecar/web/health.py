"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

import logging

from aiohttp import web

from sidecar.keys import LIFECYCLE, REPOS

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """The process is up and answering."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: the database answers and we are not shutting down."""
    if request.app[LIFECYCLE].shutting_down:
        return web.json_response({"status": "shutting down"}, status=503)
    try:
        await request.app[REPOS].ping()
    except Exception as exc:  # any database failure means "not ready", never a 500
        log.warning("readiness check failed: %s", exc)
        return web.json_response({"status": "database unavailable"}, status=503)
    return web.json_response({"status": "ready"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
