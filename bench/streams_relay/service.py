"""The service with its live notes on the streams: `sidecar.app.create_app`, its notes context
swapped before start-up for one that stores into the streams and reads them (everything else,
the pub/sub relay of panel events and closes included, is the service as it is)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterable

from aiohttp import web
from redis.asyncio import Redis

import sidecar.app as service_app
from sidecar.keys import DATABASE, NOTE_ROOMS, SETTINGS
from sidecar.notes import aiohttp_gate
from sidecar.notes.fanout import LocalFanout
from sidecar.notes.room import RoomLimits, Rooms
from sidecar.settings import Settings, SettingsGroup
from streams_relay import MIN_MESSAGE_LIFETIME_MS, TASK_DEBOUNCE_MS
from streams_relay.relay import StreamsRelay
from streams_relay.store import StreamLog, StreamsNotesStore

log = logging.getLogger("streams_relay")


def create_streams_app(
    settings: Settings, *, platform_settings: Iterable[SettingsGroup] = ()
) -> web.Application:
    if not settings.redis_url:
        raise SystemExit("the streams design needs MENTOR_SIDECAR_REDIS_URL")
    app = service_app.create_app(settings, platform_settings=platform_settings)
    contexts = list(app.cleanup_ctx)
    app.cleanup_ctx[contexts.index(service_app._notes)] = streams_notes
    return app


async def streams_notes(app: web.Application) -> AsyncIterator[None]:
    """As `sidecar.notes.endpoint.running_notes`, with the streams as store and relay."""
    settings = app[SETTINGS]
    assert settings.redis_url
    client = Redis.from_url(settings.redis_url)
    stream_log = StreamLog(client, uuid.uuid4().hex[:8].encode())
    store = StreamsNotesStore(stream_log, app[DATABASE])
    relay = StreamsRelay(settings.redis_url, stream_log)
    await store.start()
    await relay.start()
    log.info(
        "live notes on Redis streams (instance tag %s; the worker compacts every %d ms, keeping "
        "%d ms)",
        stream_log.tag.decode(),
        TASK_DEBOUNCE_MS,
        MIN_MESSAGE_LIFETIME_MS,
    )
    limits = RoomLimits(
        max_document_bytes=settings.notes_max_document_bytes,
        compact_every=settings.notes_compact_every,
        idle_seconds=settings.notes_room_idle_seconds,
    )
    fast = aiohttp_gate.use_fast_path(settings.notes_fast_path)
    rooms = app[NOTE_ROOMS] = Rooms(store, LocalFanout(raw_writes=fast, remote=relay), limits)
    relay.attach(rooms)
    try:
        yield
    finally:
        try:
            await rooms.close()
        finally:
            await relay.stop()
            await store.stop()
            await client.aclose()
