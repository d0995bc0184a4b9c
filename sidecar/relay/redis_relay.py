"""Redis pub/sub between the instances: one subscriber connection, one publishing connection.

Channels are subscribed while this instance has something open for them (a meeting's room, its
panels) and unsubscribed when that goes. Every message starts with the publishing instance's id
(`INSTANCE_ID_BYTES` bytes), so an instance skips its own.

Redis being down never blocks a caller: `publish` drops the message (everything that is
published was committed to the database first, so nothing is lost, only late), `watch` returns.
The outage is logged once; the subscriber tries to reconnect every `RECONNECT_SECONDS`, calls
the resync callbacks (which read what other instances stored from the database) every
`resync_seconds` meanwhile, and once more after its channels are subscribed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

INSTANCE_ID_BYTES = 32  # uuid4().hex
PREFIX = "mentor-sidecar:"
# How long a subscriber waits for Redis to confirm a SUBSCRIBE before going on without it (the
# periodic resync covers the meantime); a bound for a hung Redis, not a pace.
CONFIRM_SECONDS = 2.0
# While Redis is down, the subscriber tries to connect again this often (or every
# resync_seconds, if shorter).
RECONNECT_SECONDS = 0.5
# The subscriber connection is PINGed this often; no answer within as long counts as a loss.
HEALTH_SECONDS = 5.0
# Messages waiting for the publishing connection; past this they are dropped (and resynced).
MAX_QUEUED = 50_000
_FAILURES = (RedisError, OSError, asyncio.IncompleteReadError, EOFError)

Handler = Callable[[bytes], None]
Resync = Callable[[], Awaitable[None]]


class RedisRelay:
    """Publish to and receive from the other instances, through one Redis."""

    def __init__(self, url: str, *, resync_seconds: float, instance_id: str | None = None) -> None:
        self.url = url
        self.resync_seconds = resync_seconds
        self.instance_id = instance_id or uuid.uuid4().hex
        self._me = self.instance_id.encode()
        assert len(self._me) == INSTANCE_ID_BYTES
        self._handlers: dict[bytes, Handler] = {}
        self._confirmed: dict[bytes, asyncio.Future[None]] = {}
        self._resyncs: list[Resync] = []
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._wake = asyncio.Event()
        self._pubsub: PubSub | None = None
        self._up = False  # the subscriber is connected and its channels are subscribed
        self._outage_logged = False
        self._next_resync = 0.0  # while down: when the rooms next read the database again
        self._dropped = False  # messages were dropped while the subscriber was up
        self._pong: asyncio.Future[None] | None = None
        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def connected(self) -> bool:
        return self._up

    # --- what the notes and the live events use -----------------------------------------------

    def on_resync(self, callback: Resync) -> None:
        self._resyncs.append(callback)

    def publish(self, channel: bytes, body: bytes) -> None:
        """Queue a message for the other instances; never waits (dropped while Redis is down)."""
        if not self._up:
            return  # the rooms resync and tell the others to, once Redis is back
        if len(self._queue) >= MAX_QUEUED:
            self._dropped = True
            return
        self._queue.append((channel, self._me + body))
        self._wake.set()

    async def watch(self, channel: bytes, handler: Handler) -> None:
        """Receive the channel's messages from other instances; returns once Redis confirmed the
        subscription (or at once while Redis is down, or after `CONFIRM_SECONDS`)."""
        self._handlers[channel] = handler
        pubsub = self._pubsub
        if pubsub is None or not self._up:
            return
        confirmed = self._confirmed.get(channel)
        if confirmed is None:
            confirmed = self._confirmed[channel] = asyncio.get_running_loop().create_future()
            try:
                await pubsub.subscribe(channel)
            except _FAILURES:
                self._confirmed.pop(channel, None)
                return  # the reader notices the loss and resubscribes everything
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_SECONDS)

    def unwatch(self, channel: bytes) -> None:
        if self._handlers.pop(channel, None) is None:
            return
        self._confirmed.pop(channel, None)
        pubsub = self._pubsub
        if pubsub is not None and self._up:
            self._spawn(self._unsubscribe(pubsub, channel))

    # --- lifetime ---------------------------------------------------------------------------

    async def start(self) -> None:
        log.info("instance %s relays live notes and events through Redis", self.instance_id)
        self._publisher = self._client()
        self._subscriber = self._client()
        self._tasks = [
            asyncio.create_task(self._subscribe_loop()),
            asyncio.create_task(self._publish_loop()),
        ]

    async def stop(self) -> None:
        self._up = False  # what is published from now on goes nowhere, and is not queued
        self._queue.clear()
        # The background work too (unsubscribing, re-reading the store after a lost publish):
        # what a re-read would have brought is in the database, so cancelling loses nothing.
        await _cancelled(*self._tasks, *self._background)
        await self._close_pubsub()
        for client in (self._publisher, self._subscriber):
            if client is not None:
                with contextlib.suppress(*_FAILURES):
                    await client.aclose()

    def _client(self) -> Redis:
        # No retries inside redis-py: a failure is reported at once and handled here.
        return Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=CONFIRM_SECONDS,
            # Commands and the handshake of a new connection; the subscriber's wait for
            # messages is not bounded by it (get_message(timeout=None)).
            socket_timeout=CONFIRM_SECONDS,
            health_check_interval=0,
        )

    # --- the subscriber -------------------------------------------------------------------------

    async def _subscribe_loop(self) -> None:
        while True:
            try:
                await self._read()
            except asyncio.CancelledError:
                raise
            except _FAILURES as exc:
                _raise_if_cancelling()
                self._lost(exc)
            except Exception:
                log.exception("the Redis subscriber failed; reconnecting")
                self._lost(None)
            await self._close_pubsub()
            now = time.monotonic()
            if now >= self._next_resync:  # while Redis is down, every resync_seconds
                self._next_resync = now + self.resync_seconds
                await self._resync_all()
            await asyncio.sleep(min(RECONNECT_SECONDS, self.resync_seconds))

    async def _read(self) -> None:
        """Read until the connection fails, or Redis stops answering PING (a hung server or a
        silent network: no error would ever come)."""
        reader = asyncio.ensure_future(self._read_messages())
        watchdog = asyncio.ensure_future(self._watch_health())
        try:
            done, _ = await asyncio.wait((reader, watchdog), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, watchdog):
                task.cancel()
            for task in (reader, watchdog):
                with contextlib.suppress(asyncio.CancelledError, *_FAILURES):
                    await task
        for task in done:
            task.result()  # the failure that ended it
        raise ConnectionError("Redis did not answer PING")

    async def _watch_health(self) -> None:
        """Return when a PING on the subscriber connection went unanswered for HEALTH_SECONDS."""
        while True:
            await asyncio.sleep(HEALTH_SECONDS)
            pubsub = self._pubsub
            if pubsub is None or not self._up:
                continue
            pong = self._pong = asyncio.get_running_loop().create_future()
            await pubsub.ping()
            try:
                await asyncio.wait_for(pong, HEALTH_SECONDS)
            except TimeoutError:
                return

    async def _read_messages(self) -> None:
        """Connect, subscribe to everything watched, resync once subscribed, then read on."""
        assert self._subscriber is not None
        pubsub = self._pubsub = self._subscriber.pubsub()
        # Its own channel first: the pubsub is then always subscribed to something.
        wanted = [PREFIX.encode() + b"instance:" + self._me, *self._handlers]
        pending = set(wanted)
        await pubsub.subscribe(*wanted)
        first_round = True
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            channel = message["channel"]
            if kind == "message" or kind == b"message":
                data = message["data"]
                handler = self._handlers.get(channel)
                if handler is not None and data[:INSTANCE_ID_BYTES] != self._me:
                    try:
                        handler(data[INSTANCE_ID_BYTES:])
                    except Exception:
                        log.exception("a message from another instance could not be handled")
            elif kind == "pong":
                if self._pong is not None and not self._pong.done():
                    self._pong.set_result(None)
            elif kind == "subscribe" or kind == b"subscribe":
                pending.discard(channel)
                confirmed = self._confirmed.get(channel)
                if confirmed is not None and not confirmed.done():
                    confirmed.set_result(None)
                if first_round and not pending:
                    first_round = False
                    self._back(pubsub, wanted)

    def _back(self, pubsub: PubSub, wanted: list[bytes]) -> None:
        """Every channel is subscribed again: relay live, and resync what was missed meanwhile."""
        for channel in self._handlers:
            confirmed = self._confirmed.get(channel)
            if confirmed is None or confirmed.done():
                done = asyncio.get_running_loop().create_future()
                done.set_result(None)
                self._confirmed[channel] = done
        # A channel watched while the first SUBSCRIBE was on its way is subscribed now.
        late = [c for c in self._handlers if c not in pubsub.channels]
        if late:
            self._spawn(pubsub.subscribe(*late))
        # ...and one given up meanwhile is not needed any more.
        own = wanted[0]
        gone = [c for c in pubsub.channels if c not in self._handlers and c != own]
        for channel in gone:
            self._spawn(self._unsubscribe(pubsub, channel))
        self._up = True
        self._next_resync = 0.0  # a later outage resyncs at once
        if self._outage_logged:
            log.warning("Redis is reachable again; live relay between instances resumed")
            self._outage_logged = False
        self._spawn(self._resync_all())

    def _lost(self, exc: BaseException | None) -> None:
        was_up, self._up = self._up, False
        self._queue.clear()
        for confirmed in self._confirmed.values():
            if not confirmed.done():
                confirmed.cancel()
        self._confirmed.clear()
        if not self._outage_logged:
            self._outage_logged = True
            log.warning(
                "Redis unreachable (%s)%s; live notes between instances resync from the "
                "database every %s s until it is back",
                exc or "subscriber failed",
                "" if was_up else " at start",
                self.resync_seconds,
            )

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_FAILURES):
                # Typed from redis-py 8, untyped before: a typed name serves both.
                aclose: Callable[[], Awaitable[None]] = pubsub.aclose
                await aclose()

    async def _unsubscribe(self, pubsub: PubSub, channel: bytes) -> None:
        if channel in self._handlers:  # watched again meanwhile
            return
        with contextlib.suppress(*_FAILURES):
            await pubsub.unsubscribe(channel)

    async def _resync_all(self) -> None:
        for resync in list(self._resyncs):
            try:
                await resync()
            except Exception:
                log.exception("resyncing after a Redis loss failed; trying again later")

    # --- the publisher --------------------------------------------------------------------------

    async def _publish_loop(self) -> None:
        assert self._publisher is not None
        publisher = self._publisher
        while True:
            await self._wake.wait()
            self._wake.clear()
            queue = self._queue
            if not queue:
                continue
            batch = list(queue)
            queue.clear()
            for attempt in (1, 2):
                try:
                    await self._send(publisher, batch)
                    if self._dropped:  # the others missed some: they read the store again
                        self._dropped = False
                        self._spawn(self._resync_all())
                    break
                except asyncio.CancelledError:
                    raise
                except _FAILURES as exc:
                    _raise_if_cancelling()
                    if attempt == 1:  # a connection left from before an outage: a fresh one
                        with contextlib.suppress(*_FAILURES):
                            await publisher.connection_pool.disconnect()
                        continue
                    # Dropped: those updates are in the database, and the subscribers of a Redis
                    # that went away resync from it. Said once per outage, by the subscriber.
                    log.debug("publishing %d messages to Redis failed: %s", len(batch), exc)
                    self._dropped = True

    @staticmethod
    async def _send(publisher: Redis, batch: list[tuple[bytes, bytes]]) -> None:
        if len(batch) == 1:
            await publisher.publish(*batch[0])
            return
        pipe = publisher.pipeline(transaction=False)
        for channel, data in batch:
            pipe.publish(channel, data)
        await pipe.execute()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _raise_if_cancelling() -> None:
    """A failure that came while this task was being cancelled is the cancellation, reported by
    redis-py as a failure (a TimeoutError, an OSError): end as cancelled, not as a Redis loss."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _cancelled(*tasks: asyncio.Future[Any]) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again any that went on.

    A cancellation can come out of redis-py as a failure (a TimeoutError, which is an OSError,
    or a ConnectionError), which a loop that survives failures then survives too: a PostgreSQL
    test run hung 20 minutes in `stop()` on a publisher "cancelling" but back in its wait."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CONFIRM_SECONDS)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: ended by the cancellation, whatever it raised


# Sockets closed on one instance (token revoked, mentorship erased...): every instance closes its
# own (sidecar.web.open_sockets).
CLOSES_CHANNEL = f"{PREFIX}closes".encode()


def notes_channel(meeting_id: str) -> bytes:
    return f"{PREFIX}{meeting_id}:notes".encode()


def meeting_events_channel(meeting_id: str) -> bytes:
    return f"{PREFIX}{meeting_id}:events".encode()


def mentorship_events_channel(mentorship_id: str) -> bytes:
    return f"{PREFIX}mentorship:{mentorship_id}:events".encode()
