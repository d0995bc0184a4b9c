"""A minimal y-websocket client in Python (pycrdt + websockets), for tests and benchmarks.

It speaks the protocol as the npm client does: sends its state vector on connect, answers the
server's step 1 with its own missing updates (which carries offline edits), and applies updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets
from pycrdt import Doc, Text

from sidecar.notes import protocol


class NotesClient:
    def __init__(self, url: str, *, origin: str | None = None) -> None:
        self.url = url
        self.origin = origin
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get("notes", type=Text)
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.awareness: dict[int, Any] = {}
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._round_trips = 0

    async def connect(self) -> NotesClient:
        headers = {"Origin": self.origin} if self.origin else None
        self.ws = await websockets.connect(self.url, additional_headers=headers, max_size=None)
        self.synced.clear()
        self._reader = asyncio.create_task(self._read())
        await self.ws.send(protocol.sync_step1(self.doc.get_state()))
        return self

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                message = protocol.parse(frame)
                if isinstance(message, protocol.SyncMessage):
                    if message.step == protocol.SyncStep.STEP1:
                        await self.ws.send(
                            protocol.sync_step2(self.doc.get_update(message.payload))
                        )
                    else:
                        self.doc.apply_update(message.payload)
                        if message.step == protocol.SyncStep.STEP2:
                            self.synced.set()
                        self.changed.set()
                elif isinstance(message, protocol.AwarenessMessage):
                    for entry in protocol.parse_awareness(message.update):
                        state = json.loads(entry.state_json)
                        if state is None:
                            self.awareness.pop(entry.client_id, None)
                        else:
                            self.awareness[entry.client_id] = state
                    self.changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason or ""

    async def insert(self, index: int, chunk: str) -> None:
        """Edit locally and send the change (offline edits are kept and sent on reconnect)."""
        before = self.doc.get_state()
        self.text.insert(index, chunk)
        update = self.doc.get_update(before)
        if self.ws is not None and self.ws.state == websockets.protocol.State.OPEN:
            await self.ws.send(protocol.sync_update(update))

    async def set_presence(self, state: dict[str, Any], clock: int = 1) -> None:
        entry = protocol.AwarenessEntry(self.doc.client_id, clock, json.dumps(state))
        await self.ws.send(protocol.awareness(protocol.encode_awareness([entry])))

    async def round_trip(self) -> None:
        """Wait until the server has handled every message this client sent so far.

        The server handles one socket's messages in order and echoes presence to its sender
        too, so once a new presence comes back, everything sent before it was handled. (It
        replaces this client's presence with a marker: for tests that need no names.)
        """
        await asyncio.wait_for(self.synced.wait(), 30)  # our answer to its step 1 went first
        self._round_trips += 1
        marker = {"round_trip": self._round_trips}
        await self.set_presence(marker, clock=1000 + self._round_trips)
        await self.wait_for(lambda: self.awareness.get(self.doc.client_id) == marker)

    async def send_raw(self, frame: bytes | str) -> None:
        await self.ws.send(frame)

    async def wait_for(self, predicate: Any, within: float = 30.0) -> None:
        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), within)

    async def wait_closed(self, within: float = 30.0) -> None:
        assert self._reader is not None
        await asyncio.wait_for(asyncio.shield(self._reader), within)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    def __str__(self) -> str:
        return str(self.text)
