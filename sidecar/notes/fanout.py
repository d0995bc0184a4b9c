"""Delivery of live messages to the people in a meeting, here and on the other instances.

`LocalFanout` delivers to this process's own sockets. When several instances serve one meeting
(`MENTOR_SIDECAR_REDIS_URL`), its `remote` is a `MeetingRelay` (sidecar/relay/notes.py) that
publishes each meeting's committed messages to the other instances and hands theirs to the
room; without Redis `remote` is None and the local path is exactly what it was. Rooms only see
this interface, not the transport.

`send` writes at once, without a coroutine per socket: each recipient's frames are framed
(RFC 6455, unmasked binary, as a server sends them) and handed to its transport in one write.
A socket whose client stops reading is closed once `MAX_BUFFERED_BYTES` wait for it, rather than
holding up the others or growing without bound; y-websocket reconnects and resyncs.

Writing to the transport uses aiohttp's private writer (`_writer`, its `transport`, `compress`
and `_closing`), so it is used only where `aiohttp_gate` allows (`raw_writes=True`); otherwise
each socket's frames go out in order through the public `send_bytes`, one task per socket
draining its queue.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BUFFERED_BYTES = 8 * 1024 * 1024
CLOSE_TRY_AGAIN_LATER = 1013

_LEN2 = struct.Struct("!BBH").pack
_LEN3 = struct.Struct("!BBQ").pack
_BINARY_FIN = 0x82


class MeetingRelay(Protocol):
    """The other instances serving the same meetings (per meeting: a room knows no transport)."""

    def publish(self, meeting_id: str, frames: Sequence[bytes]) -> None:
        """Hand committed update frames or awareness frames to the others; never waits."""
        ...

    async def watch(self, meeting_id: str) -> None:
        """Receive the meeting's messages from the others (the room is about to load)."""
        ...

    def unwatch(self, meeting_id: str) -> None:
        """The room left memory: stop receiving them."""
        ...


class Fanout(Protocol):
    # None in-process; the Redis relay with several instances.
    remote: MeetingRelay | None

    async def deliver(self, recipients: Iterable[web.WebSocketResponse], frame: bytes) -> None: ...

    def send(self, recipient: web.WebSocketResponse, frames: Sequence[bytes]) -> None: ...


def frame_binary(payload: bytes) -> bytes:
    """A whole websocket frame: FIN, binary, unmasked (servers do not mask), then the payload."""
    length = len(payload)
    if length < 126:
        return bytes((_BINARY_FIN, length)) + payload
    if length < 65536:
        return _LEN2(_BINARY_FIN, 126, length) + payload
    return _LEN3(_BINARY_FIN, 127, length) + payload


def _transport(ws: web.WebSocketResponse) -> Any:
    """The socket's transport, when it is open and writes need no compression."""
    writer: Any = getattr(ws, "_writer", None)
    if writer is None or ws.closed or writer.compress or getattr(writer, "_closing", True):
        return None
    transport = getattr(writer, "transport", None)
    if transport is None or transport.is_closing():
        return None
    return transport


class LocalFanout:
    def __init__(self, *, raw_writes: bool = True, remote: MeetingRelay | None = None) -> None:
        self.raw_writes = raw_writes
        self.remote = remote
        self._closing: set[asyncio.Task[None]] = set()
        # The public path: frames waiting for each socket, and their size.
        self._queued: dict[web.WebSocketResponse, deque[bytes]] = {}
        self._queued_bytes: dict[web.WebSocketResponse, int] = {}

    async def deliver(self, recipients: Iterable[web.WebSocketResponse], frame: bytes) -> None:
        for ws in recipients:
            if ws.closed:
                continue
            try:
                await ws.send_bytes(frame)
            except ConnectionError:
                log.debug("dropped a frame to a closing socket")

    def send(self, recipient: web.WebSocketResponse, frames: Sequence[bytes]) -> None:
        """Write messages to one socket now, in order, in one write."""
        transport = _transport(recipient) if self.raw_writes else None
        if transport is None:
            if not recipient.closed:  # not a plain open socket: take aiohttp's own path
                self._send_public(recipient, frames)
            return
        if len(frames) == 1:
            transport.write(frame_binary(frames[0]))
        else:
            transport.write(b"".join([frame_binary(f) for f in frames]))
        if transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            log.warning("closing a notes socket whose client stopped reading")
            self._spawn(
                recipient.close(code=CLOSE_TRY_AGAIN_LATER, message=b"too far behind; reconnect")
            )

    def _send_public(self, recipient: web.WebSocketResponse, frames: Sequence[bytes]) -> None:
        """Queue frames for `send_bytes`, in order: one task per socket drains its queue."""
        queue = self._queued.get(recipient)
        size = self._queued_bytes.get(recipient, 0) + sum(len(f) for f in frames)
        if size > MAX_BUFFERED_BYTES:
            log.warning("closing a notes socket whose client stopped reading")
            self._queued.pop(recipient, None)
            self._queued_bytes.pop(recipient, None)
            self._spawn(
                recipient.close(code=CLOSE_TRY_AGAIN_LATER, message=b"too far behind; reconnect")
            )
            return
        self._queued_bytes[recipient] = size
        if queue is None:
            self._queued[recipient] = deque(frames)
            self._spawn(self._drain(recipient))
        else:
            queue.extend(frames)

    async def _drain(self, recipient: web.WebSocketResponse) -> None:
        queue = self._queued[recipient]
        try:
            while queue and self._queued.get(recipient) is queue and not recipient.closed:
                frame = queue.popleft()
                self._queued_bytes[recipient] -= len(frame)
                await recipient.send_bytes(frame)
        except ConnectionError:
            log.debug("dropped frames to a closing socket")
        finally:
            if self._queued.get(recipient) is queue:
                del self._queued[recipient]
                self._queued_bytes.pop(recipient, None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
