"""Reading the streams of this instance's open rooms: y-redis's subscriber.

One connection runs `XREAD BLOCK 1000 COUNT 1000` over the streams of every open room, each from
the last entry read, and hands the other instances' entries to the rooms. A room opening or
leaving changes the set: the blocked `XREAD` is ended (`CLIENT UNBLOCK`, from another connection)
and issued again with the new set (y-redis waits for its one-second block to end instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sidecar.notes import protocol
from streams_relay import meeting_of, stream_key
from streams_relay.store import StreamLog

log = logging.getLogger(__name__)

BLOCK_MS = 1000  # y-redis's
COUNT = 1000  # entries per stream and read, y-redis's


class RemoteNotes(Protocol):
    def take_remote(self, meeting_id: str, frames: list[bytes]) -> None: ...


class StreamsRelay:
    """`sidecar.notes.fanout.MeetingRelay` over the streams."""

    def __init__(self, url: str, stream_log: StreamLog) -> None:
        self.url = url
        self.log = stream_log
        self.tag = stream_log.tag
        self._rooms: RemoteNotes | None = None
        self._cursors: dict[bytes, bytes] = {}  # stream -> last entry id read
        self._changed = asyncio.Event()
        self._generation = 0  # bumped whenever the set of streams changes
        self._blocked_generation: int | None = None  # the set the blocked XREAD was given
        self._unblocking = False
        self._reader: Redis | None = None
        self._reader_id = 0
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    def attach(self, rooms: RemoteNotes) -> None:
        self._rooms = rooms

    async def start(self) -> None:
        self._reader = Redis.from_url(self.url, single_connection_client=True)
        self._reader_id = int(await self._reader.client_id())
        self._task = asyncio.create_task(self._read_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for task in list(self._background):
            with contextlib.suppress(BaseException):
                await task
        if self._reader is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._reader.aclose()

    # --- MeetingRelay -------------------------------------------------------------------------

    def publish(self, meeting_id: str, frames: Sequence[bytes]) -> None:
        """Awareness (and presence queries) go over the meeting's stream too, as in y-redis;
        updates are in it already (the store's `XADD` is their commit)."""
        for frame in frames:
            if not protocol.is_update_frame(frame):
                self.log.append(meeting_id, frame)

    async def watch(self, meeting_id: str) -> None:
        """Read the meeting's stream from its current end: the room loads what is before."""
        key = stream_key(meeting_id)
        last: Any = await self.log.client.xrevrange(key, count=1)
        self._cursors[key] = bytes(last[0][0]) if last else b"0-0"
        self._set_changed()

    def unwatch(self, meeting_id: str) -> None:
        if self._cursors.pop(stream_key(meeting_id), None) is not None:
            self._set_changed()

    # --- the reader ---------------------------------------------------------------------------

    def _set_changed(self) -> None:
        self._generation += 1
        self._changed.set()
        if self._blocked_generation is not None and not self._unblocking:
            self._unblocking = True
            task = asyncio.ensure_future(self._unblock())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unblock(self) -> None:
        try:
            await self.log.client.client_unblock(self._reader_id)
        except (RedisError, OSError) as exc:
            log.debug("unblocking the stream reader failed: %s", exc)
        finally:
            self._unblocking = False

    async def _read_loop(self) -> None:
        reader = self._reader
        assert reader is not None
        me = self.tag
        while True:
            if not self._cursors:
                self._changed.clear()
                await self._changed.wait()
                continue
            streams = dict(self._cursors)
            self._blocked_generation = self._generation
            try:
                reply: Any = await reader.xread(streams, count=COUNT, block=BLOCK_MS)  # type: ignore[arg-type]
            except (RedisError, OSError) as exc:
                log.warning("reading the streams failed: %s; trying again", exc)
                await asyncio.sleep(0.5)
                continue
            finally:
                self._blocked_generation = None
            if not reply:
                continue
            rooms = self._rooms
            for key, entries in reply:  # RESP2: [[stream, [(id, fields), ...]], ...]
                key = bytes(key)
                if key not in self._cursors or not entries:
                    continue  # unwatched meanwhile
                self._cursors[key] = bytes(entries[-1][0])
                frames = [
                    fields[b"m"]
                    for _, fields in entries
                    if fields.get(b"i") != me and b"m" in fields
                ]
                if frames and rooms is not None:
                    try:
                        rooms.take_remote(meeting_of(key), frames)
                    except Exception:
                        log.exception("entries of %r could not be handled", key)
