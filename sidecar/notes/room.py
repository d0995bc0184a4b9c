"""One meeting's live document and the people connected to it; and the rooms in memory.

A room loads every stored update before it answers anyone, stores each incoming update before it
relays it, compacts its stored updates as they accumulate, and leaves memory a while after the
last person leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pycrdt import Doc, Text

from sidecar.notes import protocol
from sidecar.notes.awareness import AwarenessRegistry
from sidecar.notes.fanout import Fanout
from sidecar.notes.protocol import EMPTY_UPDATE, ProtocolError, SyncStep
from sidecar.notes.store import NotesStore

log = logging.getLogger(__name__)
TEXT_NAME = "notes"


# Updates a room may hold uncommitted before a sender waits for storage.
MAX_UNCOMMITTED = 2000


class DocumentTooLarge(Exception):
    pass


class StorageFailed(Exception):
    """An update could not be stored; the room's memory is ahead of its storage."""


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    person_id: str


@dataclass(frozen=True)
class RoomLimits:
    max_document_bytes: int
    compact_every: int
    idle_seconds: float


def read_text(doc: Doc[Text]) -> str:
    """The notes as plain text (reading is safe; positions would be UTF-8 offsets, not Yjs')."""
    try:
        return str(doc.get(TEXT_NAME, type=Text))
    except Exception:  # a client wrote something else under the name; there is no text
        return ""


@dataclass(eq=False)
class Room:
    meeting_id: str
    doc: Doc[Text]
    store: NotesStore
    fanout: Fanout
    limits: RoomLimits
    stored_bytes: int
    updates_since_compaction: int
    connections: set[Connection] = field(default_factory=set)
    awareness: AwarenessRegistry = field(default_factory=AwarenessRegistry)
    idle_timer: asyncio.TimerHandle | None = None
    # Called when an update could not be stored (Rooms drops the room; clients resync).
    on_storage_failed: Callable[[Room], Awaitable[None]] | None = None
    _compaction: asyncio.Task[None] | None = None
    # Updates applied in memory, waiting for their commit before they are relayed, in order.
    _relays: deque[tuple[asyncio.Future[None], Connection, bytes]] = field(default_factory=deque)
    _relaying: asyncio.Task[None] | None = None

    def text(self) -> str:
        return read_text(self.doc)

    async def welcome(self, conn: Connection) -> None:
        await conn.ws.send_bytes(protocol.sync_step1(self.doc.get_state()))
        present = self.awareness.snapshot()
        if present is not None:
            await conn.ws.send_bytes(protocol.awareness(present))

    async def receive(self, conn: Connection, frame: bytes) -> None:
        message = protocol.parse(frame)
        if isinstance(message, protocol.SyncMessage):
            if message.step == SyncStep.STEP1:
                try:
                    missing = self.doc.get_update(message.payload)
                except ValueError as exc:
                    raise ProtocolError("invalid state vector") from exc
                await conn.ws.send_bytes(protocol.sync_step2(missing))
            else:
                await self._apply(conn, message.payload)
        elif isinstance(message, protocol.AwarenessMessage):
            self.awareness.apply(message.update, conn)
            # Everyone, sender included: the echo keeps the client's 30 s liveness check happy.
            await self.fanout.deliver([c.ws for c in self.connections], frame)
        else:
            present = self.awareness.snapshot()
            if present is not None:
                await conn.ws.send_bytes(protocol.awareness(present))

    async def _apply(self, conn: Connection, update: bytes) -> None:
        if update == EMPTY_UPDATE:
            return
        if self.stored_bytes + len(update) > self.limits.max_document_bytes:
            # The stored size counts history; measure the document itself before refusing.
            self.stored_bytes = len(self.doc.get_update())
            if self.stored_bytes + len(update) > self.limits.max_document_bytes:
                raise DocumentTooLarge
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            raise ProtocolError("invalid update") from exc
        # The reader goes on to the next frame at once; the relay task shows this update to the
        # others only after its commit, so consecutive updates can share one commit.
        committed = self.store.submit(self.meeting_id, update, conn.person_id)
        self._relays.append((committed, conn, update))
        if self._relaying is None or self._relaying.done():
            self._relaying = asyncio.create_task(self._relay())
        self.stored_bytes += len(update)
        self.updates_since_compaction += 1
        if self.updates_since_compaction >= self.limits.compact_every:
            self._start_compaction()
        if len(self._relays) > MAX_UNCOMMITTED:
            try:  # back-pressure: a flood waits for storage instead of growing memory
                await committed
            except Exception as exc:
                raise StorageFailed from exc

    async def _relay(self) -> None:
        while self._relays:
            committed, sender, update = self._relays[0]
            try:
                await committed
            except Exception:
                self._relays.clear()
                if self.on_storage_failed is not None:
                    await self.on_storage_failed(self)
                return
            self._relays.popleft()
            others = [c.ws for c in self.connections if c is not sender]
            await self.fanout.deliver(others, protocol.sync_update(update))

    def _start_compaction(self) -> None:
        if self._compaction is None or self._compaction.done():
            self.updates_since_compaction = 0
            self._compaction = asyncio.create_task(self._compact())

    async def _compact(self) -> None:
        try:
            self.stored_bytes = await self.store.compact(self.meeting_id)
        except Exception:
            log.exception("compacting the notes of %s failed; the updates stay", self.meeting_id)

    async def close(self) -> None:
        if self._relaying is not None:
            await self._relaying
        if self._compaction is not None:
            await self._compaction
        if self.updates_since_compaction:
            self.updates_since_compaction = 0
            await self._compact()


class Rooms:
    """The rooms in memory, loaded on first join and unloaded when idle."""

    def __init__(self, store: NotesStore, fanout: Fanout, limits: RoomLimits) -> None:
        self.store = store
        self.fanout = fanout
        self.limits = limits
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._unloading: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._rooms)

    def get(self, meeting_id: str) -> Room | None:
        return self._rooms.get(meeting_id)

    async def join(self, meeting_id: str, conn: Connection, first_text: Callable[[], str]) -> Room:
        room = self._rooms.get(meeting_id)
        if room is None:
            lock = self._loading.setdefault(meeting_id, asyncio.Lock())
            async with lock:
                room = self._rooms.get(meeting_id)
                if room is None:
                    room = await self._load(meeting_id, first_text)
                    self._rooms[meeting_id] = room
            self._loading.pop(meeting_id, None)
        if room.idle_timer is not None:
            room.idle_timer.cancel()
            room.idle_timer = None
        room.connections.add(conn)
        return room

    async def drop(self, room: Room, code: int, reason: bytes) -> None:
        """Forget a room whose memory cannot be trusted and close its sockets.

        Its clients reconnect, the room reloads from storage, and each client's sync step 2
        re-sends whatever storage lacks, so an update that failed to store is not lost.
        """
        if self._rooms.get(room.meeting_id) is room:
            del self._rooms[room.meeting_id]
        for conn in list(room.connections):
            await conn.ws.close(code=code, message=reason)

    async def leave(self, room: Room, conn: Connection) -> None:
        room.connections.discard(conn)
        gone = room.awareness.leave(conn)
        if gone is not None:
            await self.fanout.deliver([c.ws for c in room.connections], protocol.awareness(gone))
        if not room.connections and self._rooms.get(room.meeting_id) is room:
            loop = asyncio.get_running_loop()
            room.idle_timer = loop.call_later(self.limits.idle_seconds, self._unload_later, room)

    def _unload_later(self, room: Room) -> None:
        task = asyncio.create_task(self._unload(room))
        self._unloading.add(task)
        task.add_done_callback(self._unloading.discard)

    async def _unload(self, room: Room) -> None:
        if room.connections or self._rooms.get(room.meeting_id) is not room:
            return
        del self._rooms[room.meeting_id]
        await room.close()
        log.debug("notes of %s left memory", room.meeting_id)

    async def _load(self, meeting_id: str, first_text: Callable[[], str]) -> Room:
        stored = await self.store.load(meeting_id)
        doc: Doc[Text] = Doc()
        for update in stored.updates:
            doc.apply_update(update)
        size, count = stored.size, len(stored.updates)
        if not stored.updates:
            # A new meeting's notes start with its title and date, written once by the service.
            text = doc.get(TEXT_NAME, type=Text)
            with doc.transaction():
                text.insert(0, first_text())
            first = doc.get_update()
            await self.store.submit(meeting_id, first, None)
            size, count = len(first), 1
        room = Room(meeting_id, doc, self.store, self.fanout, self.limits, size, count)
        room.on_storage_failed = self._storage_failed
        return room

    async def _storage_failed(self, room: Room) -> None:
        log.error("storing a note update of %s failed; reloading the room", room.meeting_id)
        await self.drop(room, 1011, b"storage failed; reconnect to resync")

    async def read_text(self, meeting_id: str) -> str:
        """The notes as text, from memory when the room is open, else from storage."""
        room = self._rooms.get(meeting_id)
        if room is not None:
            return room.text()
        doc: Doc[Text] = Doc()
        for update in (await self.store.load(meeting_id)).updates:
            doc.apply_update(update)
        return read_text(doc)

    async def close(self) -> None:
        """On shutdown: stop timers and compact what is in memory."""
        for task in list(self._unloading):
            with contextlib.suppress(Exception):
                await task
        for room in list(self._rooms.values()):
            if room.idle_timer is not None:
                room.idle_timer.cancel()
            await room.close()
        self._rooms.clear()
