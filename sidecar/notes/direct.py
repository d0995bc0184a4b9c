"""A notes socket that hands update frames to the room as aiohttp parses them.

Most messages on a notes socket are small Yjs updates. Received the usual way, each one resolves
a future, wakes the handler's task and goes through `WebSocketResponse.receive()`: more CPU than
storing and relaying the update costs. `NotesWebSocket` gives aiohttp's frame parser a queue
that passes an update frame straight to a `taker` (the room) when that keeps every guarantee:

- order: the handler is waiting in `receive()` with nothing queued, so every earlier message
  has been handled in full;
- the taker accepts it at once (no back-pressure wait, within the sender's allowance, valid).

Anything else (sync step 1, awareness, a frame that fails, a closing socket) is queued as usual;
the handler reads it and does what it always did, so errors and close codes are the same.

This relies on aiohttp's reader classes (`aiohttp._websocket.reader`), which aiohttp does not
promise to keep, so it is used only where `aiohttp_gate` allows it (the aiohttp versions it was
tested with, every name present, `MENTOR_SIDECAR_NOTES_FAST_PATH` not `off`). Otherwise
`NotesWebSocket` is a plain `WebSocketResponse` and every frame goes through `receive()`: the
same behaviour, at the old cost (the notes tests run on both paths).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.helpers import DEFAULT_CHUNK_SIZE

from sidecar.notes import aiohttp_gate

log = logging.getLogger(__name__)

try:  # aiohttp's reader classes (private: see the module's docstring)
    from aiohttp._websocket import reader as _aiohttp_reader
except ImportError:  # pragma: no cover
    _aiohttp_reader = None  # type: ignore[assignment]

# Takes a binary frame now (True) or leaves it to the handler (False); may raise, which also
# leaves it to the handler.
Taker = Callable[[bytes], bool]


def _direct_queue_class() -> Any:
    """aiohttp's message queue, with a shortcut for frames the taker accepts (None: no such)."""
    if _aiohttp_reader is None or not aiohttp_gate.AVAILABLE:  # pragma: no cover
        return None  # an aiohttp the fast path was not tested with: plain sockets

    class DirectQueue(_aiohttp_reader.WebSocketDataQueue):
        def __init__(self, protocol: Any, limit: int, *, loop: Any) -> None:
            super().__init__(protocol, limit, loop=loop)
            self.taker: Taker | None = None
            self.parked = False  # someone waits in read(): everything before is handled

        def feed_data(self, data: Any, size: int) -> None:
            taker = self.taker
            if taker is not None and self.parked and not self._buffer and data[0] is _BINARY:
                try:
                    if taker(data[1]):
                        return
                except Exception:  # the handler gets it and reports the error as always
                    log.debug("a notes frame left to the handler", exc_info=True)
            super().feed_data(data, size)

        async def read(self) -> Any:
            self.parked = True
            try:
                return await super().read()
            finally:
                self.parked = False

    return DirectQueue


_BINARY = WSMsgType.BINARY
_DirectQueue = _direct_queue_class()


class NotesWebSocket(web.WebSocketResponse):
    """A `WebSocketResponse` whose update frames can skip the handler (see the module).

    `fast=False` (or an aiohttp the gate does not allow) makes it a plain `WebSocketResponse`.
    """

    def __init__(self, *, fast: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast = fast and _DirectQueue is not None

    def _post_start(self, request: Any, protocol: Any, writer: Any) -> None:
        if not self._fast:  # the public path: aiohttp's own queue, every frame via receive()
            super()._post_start(request, protocol, writer)
            return
        try:  # the same as aiohttp's own, with the queue above
            queue = _DirectQueue(request._protocol, DEFAULT_CHUNK_SIZE, loop=self._loop)
            parser = _aiohttp_reader.WebSocketReader(
                queue, self._max_msg_size, bool(self._compress), self._decode_text
            )
            data_received_cb = None if self._heartbeat is None else self._on_data_received
        except Exception:  # pragma: no cover - aiohttp changed: take its own path
            log.warning("live notes: aiohttp's reader changed; frames go through receive()")
            super()._post_start(request, protocol, writer)
            return
        self._ws_protocol = protocol
        self._writer = writer
        self._reset_heartbeat()
        self._reader = queue
        self._parser = parser
        request.protocol.set_parser(parser, data_received_cb=data_received_cb)
        request.protocol.keep_alive(False)

    @property
    def direct(self) -> bool:
        """Whether update frames can skip the handler (False on another aiohttp layout)."""
        return _DirectQueue is not None and isinstance(self._reader, _DirectQueue)

    def take_directly(self, taker: Taker | None) -> None:
        """From now on offer binary frames to `taker` first; None stops it."""
        if self.direct:
            reader: Any = self._reader
            reader.taker = taker
