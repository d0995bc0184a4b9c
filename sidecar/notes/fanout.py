"""Delivery of live messages to the people in a meeting.

One process delivers to its own sockets. When several instances serve one meeting, a Redis
implementation of `Fanout` will publish to the other instances too; rooms only see this interface.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from aiohttp import web

log = logging.getLogger(__name__)


class Fanout(Protocol):
    async def deliver(self, recipients: Iterable[web.WebSocketResponse], frame: bytes) -> None: ...


class LocalFanout:
    async def deliver(self, recipients: Iterable[web.WebSocketResponse], frame: bytes) -> None:
        for ws in recipients:
            if ws.closed:
                continue
            try:
                await ws.send_bytes(frame)
            except ConnectionError:
                log.debug("dropped a frame to a closing socket")
