"""The application factory: every resource in its own cleanup context, every route wired here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from sidecar import reminders
from sidecar.api import endpoints  # noqa: F401  (registers the API routes)
from sidecar.api.errors import json_errors
from sidecar.api.openapi import build_openapi
from sidecar.api.routing import API_PREFIX, api
from sidecar.db import open_database
from sidecar.db.notes import notes_store_for
from sidecar.db.repositories import Repositories
from sidecar.erasure import erasure_context
from sidecar.keys import (
    ASSET_VERSION,
    DATABASE,
    LIFECYCLE,
    LIVE_EVENTS,
    OUTBOX,
    PLATFORMS,
    RATE_LIMITER,
    REPOS,
    SETTINGS,
    SOCKET_BUDGET,
    WEBSOCKETS,
    Lifecycle,
)
from sidecar.limits import LocalRateLimiter, LocalSocketBudget
from sidecar.limits_redis import RedisRateLimiter, RedisSocketBudget, redis_client
from sidecar.live import events as live_events
from sidecar.live import mentorship_events
from sidecar.live.hub import MeetingEvents
from sidecar.mail.outbox import Outbox
from sidecar.mail.transport import transport_for
from sidecar.meeting_lifecycle import idle_context
from sidecar.notes import endpoint as notes_endpoint
from sidecar.platforms.loader import activate
from sidecar.relay import relay_context
from sidecar.settings import Settings, SettingsGroup
from sidecar.signin_requests import signin_mailer_context
from sidecar.web import calendar_feed, health, pages
from sidecar.web.open_sockets import OpenSockets, close_all_sockets
from sidecar.web.security import add_security_headers

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, platform_settings: Iterable[SettingsGroup] = ()
) -> web.Application:
    """The application with the platforms MENTOR_SIDECAR_PLATFORMS names (every installed one
    by default), each with the settings given for it here, else read from the environment."""
    platforms = activate(settings, platform_settings)
    # Photos may be larger than JSON bodies; the JSON parser enforces max_body_bytes itself.
    largest = max(settings.max_body_bytes, settings.photo_max_bytes)
    app = web.Application(middlewares=[json_errors], client_max_size=largest)
    app[SETTINGS] = settings
    app[WEBSOCKETS] = OpenSockets()
    app[ASSET_VERSION] = pages.asset_version()
    app[LIFECYCLE] = Lifecycle()
    app[LIVE_EVENTS] = MeetingEvents()
    if settings.redis_url:  # several instances: quotas and socket budgets shared through Redis
        limits_client = redis_client(settings.redis_url)
        app[RATE_LIMITER] = RedisRateLimiter(limits_client)
        app[SOCKET_BUDGET] = RedisSocketBudget(limits_client)
    else:
        app[RATE_LIMITER] = LocalRateLimiter()
        app[SOCKET_BUDGET] = LocalSocketBudget()
    app[PLATFORMS] = platforms

    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_shared_limits)
    app.cleanup_ctx.append(relay_context)  # Redis between instances (none without its URL)
    app.cleanup_ctx.append(_notes)  # after the database: it stores into it; after the relay
    app.cleanup_ctx.append(_outbox)
    app.cleanup_ctx.append(_reminders)  # after the outbox: it enqueues into it
    app.cleanup_ctx.append(signin_mailer_context)  # after the outbox too: it enqueues links
    app.cleanup_ctx.append(idle_context)  # ends meetings nobody has open any more
    app.cleanup_ctx.append(erasure_context)  # erases what is due after its grace period
    app.on_shutdown.append(_close_websockets)
    app.on_response_prepare.append(add_security_headers)

    names = [active.name for active in platforms]
    api.install(app, names)
    openapi = build_openapi(api.endpoints_for(names))

    async def openapi_json(request: web.Request) -> web.Response:
        return web.json_response(openapi)

    app.router.add_get(f"{API_PREFIX}/openapi.json", openapi_json)
    health.add_routes(app)
    calendar_feed.add_routes(app)
    notes_endpoint.add_routes(app)
    live_events.add_routes(app)
    mentorship_events.add_routes(app)
    pages.add_routes(app)
    for active in platforms:  # their routes, endpoints and background tasks (after the database)
        active.platform.install(app, active.settings)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    tables = {active.name: active.platform.migrations for active in app[PLATFORMS]}
    # MENTOR_SIDECAR_DATABASE_URL: the SQLite file in the data folder unless it names another.
    db = await open_database(settings, platform_migrations=tables)
    app[DATABASE] = db
    app[REPOS] = Repositories.over(db)
    log.info("database ready at %s", db.describe())
    try:
        yield
    finally:
        await db.close()
        log.info("database closed")


async def _shared_limits(app: web.Application) -> AsyncIterator[None]:
    """With Redis: the socket budget's lease renewed while the app runs, given up at the end."""
    budget = app[SOCKET_BUDGET]
    if not isinstance(budget, RedisSocketBudget):
        yield
        return
    log.info("quotas and websocket budgets shared through Redis (instance %s)", budget.instance_id)
    budget.start()
    try:
        yield
    finally:
        await budget.stop()
        await budget.client.aclose()


async def _notes(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = notes_store_for(
        app[DATABASE],
        commit_window_seconds=settings.notes_commit_window_ms / 1000,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    async with notes_endpoint.running_notes(app, store):
        yield


async def _outbox(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    outbox = Outbox(
        app[REPOS].outbox,
        transport_for(settings),
        poll_seconds=settings.outbox_poll_seconds,
        claim_timeout_seconds=settings.claim_timeout_seconds,
        allow_private_webhooks=settings.webhook_allow_private_addresses,
    )
    app[OUTBOX] = outbox
    outbox.start()
    log.info("email goes to %s", outbox.transport.describe())
    try:
        yield
    finally:
        await outbox.stop(grace_seconds=settings.shutdown_timeout)


async def _reminders(app: web.Application) -> AsyncIterator[None]:
    task = reminders.start(app[REPOS], app[OUTBOX], app[SETTINGS])
    try:
        yield
    finally:
        await reminders.stop(task)


async def _close_websockets(app: web.Application) -> None:
    app[LIFECYCLE].shutting_down = True
    if len(app[WEBSOCKETS]):
        log.info("closing %d websocket(s): server shutting down", len(app[WEBSOCKETS]))
    await close_all_sockets(app)  # 1001: clients reconnect by themselves
