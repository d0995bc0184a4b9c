"""Live notes, presence and panel events between instances, through Redis pub/sub.

`redis_relay.py` is the connection to Redis (one subscriber connection and one publishing
connection per instance, reconnecting by itself); `notes.py` carries each meeting's notes and
presence, `events.py` its panel events. Without `MENTOR_SIDECAR_REDIS_URL` none of it runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from sidecar.keys import LIVE_EVENTS, REDIS_RELAY, SETTINGS
from sidecar.relay.events import EventsRelay
from sidecar.relay.redis_relay import RedisRelay


async def relay_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup_ctx owning the Redis connections (before the notes, which publish through it)."""
    settings = app[SETTINGS]
    if not settings.redis_url:
        yield
        return
    relay = RedisRelay(settings.redis_url, resync_seconds=settings.redis_resync_seconds)
    await relay.start()
    app[REDIS_RELAY] = relay
    app[LIVE_EVENTS].attach_remote(EventsRelay(relay))
    from sidecar.web.open_sockets import watch_closes  # (it imports this package)

    # A session revoked or a mentorship erased on another instance closes its sockets here.
    stop_closes = await watch_closes(app, relay)
    try:
        yield
    finally:
        await stop_closes()
        await relay.stop()
