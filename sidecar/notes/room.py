"""One meeting's live document and the people connected to it; and the rooms in memory.

A room loads every stored update before it answers anyone, stores each incoming update before it
relays it, compacts its stored updates as they accumulate, and leaves memory a while after the
last person leaves.

With several instances (`Fanout.remote`, sidecar/relay/notes.py) a committed update is published
to the other instances, then relayed here; what another instance published is applied to this
room's document (it is stored already) and relayed to the sockets here; awareness the same way.
After a Redis loss, and while Redis is down, `Rooms.resync` reads each room's notes again from
the database and sends the people here what the room lacked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pycrdt import Doc, Text, get_state, get_update, merge_updates

from sidecar.notes import protocol
from sidecar.notes.awareness import AwarenessRegistry
from sidecar.notes.fanout import Fanout
from sidecar.notes.protocol import EMPTY_UPDATE, ProtocolError, SyncStep, is_update_frame
from sidecar.notes.store import NotesStore

log = logging.getLogger(__name__)
TEXT_NAME = "notes"


# Updates a room may hold uncommitted before a sender waits for storage.
MAX_UNCOMMITTED = 2000
# Committed updates held before they are applied to the room's document (see Room.current).
MAX_UNAPPLIED = 256
# A room with committed updates still unapplied applies them once nobody has typed for this long:
# an idle open meeting then holds its document only, not hundreds of small update objects.
APPLY_WHEN_IDLE_SECONDS = 2.0


# Who announced the presence of a person connected to another instance.
REMOTE = object()
# y-websocket's "who is present?" message (type 3), asked of the other instances.
QUERY_AWARENESS = b"\x03"
# A sync step 1 published to the other instances: "read the store again" (this instance may have
# stored updates it could not publish).
RESYNC_SIGNAL = protocol.sync_step1(b"\x00")
# y-protocols clients drop a peer not renewed for 30 s (they renew every 15 s).
REMOTE_PRESENCE_TIMEOUT_SECONDS = 30.0

# The rooms with updates in each pending commit, relayed together once it is done.
_RELAY_AFTER: dict[asyncio.Future[None], list[Room]] = {}


def _relay_committed(committed: asyncio.Future[None]) -> None:
    for room in _RELAY_AFTER.pop(committed, ()):
        room._committed(committed)


class DocumentTooLarge(Exception):
    pass


class StorageFailed(Exception):
    """An update could not be stored; the room's memory is ahead of its storage."""


@dataclass(eq=False, slots=True)
class Connection:
    ws: web.WebSocketResponse
    person_id: str


@dataclass(frozen=True)
class RoomLimits:
    max_document_bytes: int
    compact_every: int
    idle_seconds: float


def heading_client_id(meeting_id: str) -> int:
    """The service's Yjs client id for a meeting's heading: above 2**32, where no Yjs client's
    random (32-bit) id falls, and the same on every instance."""
    digest = hashlib.sha256(meeting_id.encode()).digest()
    return 2**32 + int.from_bytes(digest[:4], "big")


def read_text(doc: Doc[Text]) -> str:
    """The notes as plain text (reading is safe; positions would be UTF-8 offsets, not Yjs')."""
    try:
        return str(doc.get(TEXT_NAME, type=Text))
    except Exception:  # a client wrote something else under the name; there is no text
        return ""


# Slots: two sockets per open meeting, for hours; a __dict__ per object would cost more than
# the fields themselves (bench/README.md, memory per idle open meeting).
@dataclass(eq=False, slots=True)
class Room:
    meeting_id: str
    # None until something is applied to the document or it is read: a room nobody has typed in
    # keeps its notes as `_stored`, one update (tens of bytes), rather than a Doc (kilobytes).
    doc: Doc[Text] | None
    store: NotesStore
    fanout: Fanout
    limits: RoomLimits
    stored_bytes: int
    updates_since_compaction: int
    # Size of the last merged snapshot, and what has been stored since (see `_apply`).
    snapshot_bytes: int = 0
    bytes_since_compaction: int = 0
    connections: set[Connection] = field(default_factory=set)
    awareness: AwarenessRegistry = field(default_factory=AwarenessRegistry)
    idle_timer: asyncio.TimerHandle | None = None
    # Called when an update could not be stored (Rooms drops the room; clients resync).
    on_storage_failed: Callable[[Room], Awaitable[None]] | None = None
    _compaction: asyncio.Task[None] | None = None
    # Updates applied in memory, waiting for their commit before they are relayed, in order:
    # per commit, its future and the (sender, frame to relay, update) of each update it holds.
    _awaiting_commit: deque[tuple[asyncio.Future[None], list[tuple[Connection, bytes, bytes]]]] = (
        field(default_factory=deque)
    )
    _uncommitted: int = 0
    _unapplied: list[bytes] = field(default_factory=list)  # committed, not yet in `doc`
    _failing: asyncio.Future[None] | None = None
    _received: int = 0  # updates taken so far (tells the idle check whether typing went on)
    _apply_when_idle: asyncio.TimerHandle | None = None
    _stored: bytes = b""  # while `doc` is None: every committed update, merged into one
    # People present through other instances: client id -> (clock, when last heard). Nobody
    # here sees their socket close if their instance dies, so they are forgotten once silent.
    _remote_presence: dict[int, tuple[int, float]] | None = None
    _resyncing: asyncio.Task[None] | None = None  # asked by another instance

    def text(self) -> str:
        return read_text(self.current())

    def current(self) -> Doc[Text]:
        """The document with every committed update applied.

        Updates are validated as they arrive, and applied once committed, when something reads
        the document (a client's sync, the text, a size check) or `MAX_UNAPPLIED` have gathered:
        one transaction for many updates costs less than one each, and while people only type,
        the server's copy is not read at all. Since only committed updates are ever in it, a
        newcomer's sync shows nothing that a crash could lose.
        """
        doc = self.doc
        if doc is None:  # the first update or read of a room nobody had typed in
            doc = self.doc = Doc()
            doc.apply_update(self._stored)
            self._stored = b""
        if self._unapplied:
            updates, self._unapplied = self._unapplied, []
            with doc.transaction():
                for update in updates:
                    try:
                        doc.apply_update(update)
                    except ValueError:  # it decoded when it arrived; integrating it failed
                        log.warning("an update to the notes of %s did not apply", self.meeting_id)
        return doc

    def _state(self) -> bytes:
        """The committed document's state vector (without building a Doc nobody has typed in)."""
        if self.doc is None and not self._unapplied:
            return get_state(self._stored)
        return self.current().get_state()

    def _missing(self, state: bytes) -> bytes:
        """What a client with `state` lacks of the committed document; ValueError if invalid."""
        if self.doc is None and not self._unapplied:
            return get_update(self._stored, state)
        return self.current().get_update(state)

    async def welcome(self, conn: Connection) -> None:
        await conn.ws.send_bytes(protocol.sync_step1(self._state()))
        if self._remote_presence:
            self._forget_silent_remote_presence()
        present = self.awareness.snapshot()
        if present is not None:
            await conn.ws.send_bytes(protocol.awareness(present))

    def take_update(self, conn: Connection, frame: bytes) -> asyncio.Future[None] | None:
        """The hot path, without a coroutine: a SYNC frame of step 2 or UPDATE (most messages).

        Applies and queues the update for the next commit; returns the commit's future only
        when the sender must wait for it (back-pressure, see `wait_stored`).
        """
        update = protocol.sync_payload(frame)
        # Relayed as it came: the others get an update message (a step 2 is re-typed as one).
        return self._apply(conn, update, frame if frame[1] == 2 else b"\x00\x02" + frame[2:])

    def can_take_now(self) -> bool:
        """Whether `take_update` would return without asking its sender to wait."""
        return self._uncommitted < MAX_UNCOMMITTED and self._failing is None

    async def receive(self, conn: Connection, frame: bytes) -> None:
        if protocol.is_update_frame(frame):
            wait = self.take_update(conn, frame)
            if wait is not None:
                await self.wait_stored(wait)
            return
        message = protocol.parse(frame)
        if isinstance(message, protocol.SyncMessage):
            if message.step == SyncStep.STEP1:
                # Answer with everything received before this question, once it is committed.
                await self.flushed()
                try:
                    missing = self._missing(message.payload)
                except ValueError as exc:
                    raise ProtocolError("invalid state vector") from exc
                await conn.ws.send_bytes(protocol.sync_step2(missing))
            else:  # an empty step 2 or update, which `is_update_frame` leaves to `parse`
                wait = self._apply(conn, message.payload, protocol.sync_update(message.payload))
                if wait is not None:
                    await self.wait_stored(wait)
        elif isinstance(message, protocol.AwarenessMessage):
            self.awareness.apply(message.update, conn)
            remote = self.fanout.remote
            if remote is not None:  # presence is not stored: nothing to commit first
                remote.publish(self.meeting_id, (frame,))
            # Everyone, sender included: the echo keeps the client's 30 s liveness check happy.
            await self.fanout.deliver([c.ws for c in self.connections], frame)
        else:
            present = self.awareness.snapshot()
            if present is not None:
                await conn.ws.send_bytes(protocol.awareness(present))

    @staticmethod
    async def wait_stored(committed: asyncio.Future[None]) -> None:
        try:  # back-pressure: a flood waits for storage instead of growing memory
            await asyncio.shield(committed)  # shared by every update of the commit
        except Exception as exc:
            raise StorageFailed from exc

    def _apply(self, conn: Connection, update: bytes, relay: bytes) -> asyncio.Future[None] | None:
        if update == EMPTY_UPDATE:
            return None
        if self.stored_bytes + len(update) > self.limits.max_document_bytes:
            # The stored size counts history; measure the document itself before refusing.
            uncommitted = sum(len(u) for _, relays in self._awaiting_commit for _, _, u in relays)
            self.stored_bytes = len(self.current().get_update()) + uncommitted
            if self.stored_bytes + len(update) > self.limits.max_document_bytes:
                raise DocumentTooLarge
        try:  # decoding it in full validates it, at a tenth of the cost of applying it
            get_state(update)
        except ValueError as exc:
            raise ProtocolError("invalid update") from exc
        # The reader goes on to the next frame at once; the update is shown to the others only
        # once the commit that holds it is done. All updates of one commit share its future.
        committed = self.store.submit(self.meeting_id, update, conn.person_id)
        waiting = self._awaiting_commit
        if waiting and waiting[-1][0] is committed:
            waiting[-1][1].append((conn, relay, update))
        else:
            waiting.append((committed, [(conn, relay, update)]))
            # One callback per commit for all its rooms, not one scheduled callback per room.
            rooms = _RELAY_AFTER.get(committed)
            if rooms is None:
                _RELAY_AFTER[committed] = [self]
                committed.add_done_callback(_relay_committed)
            else:
                rooms.append(self)
        self._uncommitted += 1
        self._received += 1
        self.stored_bytes += len(update)
        self.updates_since_compaction += 1
        self.bytes_since_compaction += len(update)
        # Merging costs in proportion to the whole document: wait until the new history is at
        # least half the last snapshot, so a long meeting's notes are not re-merged every few
        # hundred keystrokes (the cost per keystroke stays flat as the notes grow).
        if (
            self.updates_since_compaction >= self.limits.compact_every
            and 2 * self.bytes_since_compaction >= self.snapshot_bytes
        ):
            self._start_compaction()
        return committed if self._uncommitted > MAX_UNCOMMITTED else None

    def _committed(self, committed: asyncio.Future[None]) -> None:
        """A commit is done: relay its updates (and any earlier ones) to everyone but the sender."""
        waiting = self._awaiting_commit
        while waiting and waiting[0][0].done():
            future, relays = waiting.popleft()
            self._uncommitted -= len(relays)
            if future.cancelled() or future.exception() is not None:
                waiting.clear()
                self._uncommitted = 0
                if self.on_storage_failed is not None:
                    self._failing = asyncio.ensure_future(self.on_storage_failed(self))
                return
            self._unapplied += [update for _, _, update in relays]
            remote = self.fanout.remote
            if remote is not None:  # committed, so the other instances may show it too
                remote.publish(self.meeting_id, [frame for _, frame, _ in relays])
            connections = self.connections
            if len(relays) == 1:
                sender, frame, _ = relays[0]
                for c in connections:
                    if c is not sender:
                        self.fanout.send(c.ws, (frame,))
            else:
                for c in connections:
                    frames = [frame for sender, frame, _ in relays if sender is not c]
                    if frames:
                        self.fanout.send(c.ws, frames)
        self._apply_later()

    def _apply_later(self) -> None:
        """Apply committed updates now if many have gathered, else once typing pauses."""
        if len(self._unapplied) >= MAX_UNAPPLIED:
            self.current()
        elif self._unapplied and self._apply_when_idle is None:
            self._apply_when_idle = asyncio.get_running_loop().call_later(
                APPLY_WHEN_IDLE_SECONDS, self._apply_if_idle, self._received
            )

    def take_remote(self, frames: list[bytes]) -> None:
        """Committed updates and presence from another instance: into this room's document (not
        stored again) and its awareness, and on to the sockets here."""
        relay: list[bytes] = []
        for frame in frames:
            try:
                if is_update_frame(frame):
                    update = protocol.sync_payload(frame)
                    self._unapplied.append(update)
                    self.stored_bytes += len(update)
                    self._received += 1
                else:
                    message = protocol.parse(frame)
                    if isinstance(message, protocol.QueryAwareness):
                        self._tell_presence()  # a room opening elsewhere asks who is here
                        continue
                    if isinstance(message, protocol.SyncMessage):
                        # Another instance lost messages to Redis: what it stored meanwhile
                        # reached no one, so read the store.
                        if message.step == SyncStep.STEP1:
                            self._resync_soon()
                        continue
                    if not isinstance(message, protocol.AwarenessMessage):
                        continue
                    self.awareness.apply(message.update, REMOTE)
                    self._heard_remote_presence(message.update)
            except ProtocolError:
                log.warning("a message from another instance for %s was malformed", self.meeting_id)
                continue
            relay.append(frame)
        if relay:
            for c in self.connections:
                self.fanout.send(c.ws, relay)
            self._apply_later()

    def _resync_soon(self) -> None:
        if self._resyncing is None or self._resyncing.done():
            self._resyncing = asyncio.ensure_future(self._resync_logged())

    async def _resync_logged(self) -> None:
        try:
            await self.resync()
        except Exception as exc:  # the next loss or signal tries again
            log.warning("resyncing the notes of %s failed: %s", self.meeting_id, exc)

    def _tell_presence(self) -> None:
        remote = self.fanout.remote
        present = self.awareness.snapshot()
        if remote is not None and present is not None:
            remote.publish(self.meeting_id, (protocol.awareness(present),))

    def _heard_remote_presence(self, update: bytes) -> None:
        heard = self._remote_presence
        if heard is None:
            heard = self._remote_presence = {}
        now = time.monotonic()
        for entry in protocol.parse_awareness(update):
            if entry.state_json == "null":
                heard.pop(entry.client_id, None)
            else:
                heard[entry.client_id] = (entry.clock, now)

    def _forget_silent_remote_presence(self) -> None:
        """Drop people of other instances not heard for longer than clients wait (their
        instance died or lost Redis), so a newcomer here is not shown them."""
        heard = self._remote_presence
        assert heard is not None
        silent_since = time.monotonic() - REMOTE_PRESENCE_TIMEOUT_SECONDS
        silent = [(cid, clock) for cid, (clock, at) in heard.items() if at < silent_since]
        for cid, _ in silent:
            del heard[cid]
        # Only people still present through another instance (not one who reconnected here).
        owner = self.awareness.owner
        gone = [
            protocol.AwarenessEntry(cid, clock, "null")
            for cid, clock in silent
            if owner(cid) is REMOTE
        ]
        if gone:
            with contextlib.suppress(ProtocolError):
                self.awareness.apply(protocol.encode_awareness(gone), REMOTE)

    async def resync(self) -> None:
        """Read the stored notes again and send the people here what this room lacked (what
        other instances stored while their messages could not reach this one)."""
        stored = await self.store.load(self.meeting_id)
        if not stored.updates:
            return
        merged = stored.updates[0] if len(stored.updates) == 1 else merge_updates(*stored.updates)
        state = self._state()
        missing = get_update(merged, state)
        # An update always carries its delete set: the room's own, alone, means nothing is new.
        if missing == EMPTY_UPDATE or missing == self._missing(state):
            return
        self._unapplied.append(missing)
        frame = protocol.sync_update(missing)
        for c in self.connections:
            self.fanout.send(c.ws, (frame,))
        self._apply_later()

    def _apply_if_idle(self, received_before: int) -> None:
        """Apply what is unapplied if no update came since the check was set, else check later."""
        self._apply_when_idle = None
        if self._received == received_before:
            self.current()
        elif self._unapplied:
            self._apply_when_idle = asyncio.get_running_loop().call_later(
                APPLY_WHEN_IDLE_SECONDS, self._apply_if_idle, self._received
            )

    async def flushed(self) -> None:
        """Wait until every update received so far is committed and relayed (or has failed).

        Only those received so far: in a room where people keep typing it still returns.
        """
        if not self._awaiting_commit:
            return
        with contextlib.suppress(Exception):  # shielded: the commit's future is shared
            await asyncio.shield(self._awaiting_commit[-1][0])
        await asyncio.sleep(0)  # the relay callbacks run on the loop's next turn

    async def settled(self) -> None:
        """Wait until what was received so far is committed and any compaction it began is done."""
        await self.flushed()
        if self._compaction is not None:
            with contextlib.suppress(Exception):  # `_compact` logs its own failure
                await asyncio.shield(self._compaction)

    def _start_compaction(self) -> None:
        if self._compaction is None or self._compaction.done():
            self.updates_since_compaction = 0
            self.bytes_since_compaction = 0
            self._compaction = asyncio.create_task(self._compact())

    async def _compact(self) -> None:
        try:
            self.stored_bytes = self.snapshot_bytes = await self.store.compact(self.meeting_id)
        except Exception:
            log.exception("compacting the notes of %s failed; the updates stay", self.meeting_id)

    async def close(self) -> None:
        await self.flushed()
        if self._apply_when_idle is not None:
            self._apply_when_idle.cancel()
            self._apply_when_idle = None
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
        # Other instances' messages for rooms being loaded, applied once loaded.
        self._early: dict[str, list[list[bytes]]] = {}

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
                    room = await self._load_watched(meeting_id, first_text)
            self._loading.pop(meeting_id, None)
        if room.idle_timer is not None:
            room.idle_timer.cancel()
            room.idle_timer = None
        room.connections.add(conn)
        return room

    async def _load_watched(self, meeting_id: str, first_text: Callable[[], str]) -> Room:
        """Load a room, subscribed first to what other instances publish for it: whatever
        they commit after the load began reaches it (meanwhile kept in `_early`)."""
        remote = self.fanout.remote
        if remote is None:
            room = await self._load(meeting_id, first_text)
            self._rooms[meeting_id] = room
            return room
        self._early[meeting_id] = []
        try:
            await remote.watch(meeting_id)
            # Who is present through the other instances: they answer with their presence.
            remote.publish(meeting_id, (QUERY_AWARENESS,))
            room = await self._load(meeting_id, first_text)
        except BaseException:
            del self._early[meeting_id]
            remote.unwatch(meeting_id)
            raise
        self._rooms[meeting_id] = room
        for frames in self._early.pop(meeting_id):
            room.take_remote(frames)
        return room

    def _forget(self, room: Room) -> None:
        """The room leaves `_rooms` (and stops hearing other instances, in the same step)."""
        del self._rooms[room.meeting_id]
        remote = self.fanout.remote
        if remote is not None:
            remote.unwatch(room.meeting_id)

    def take_remote(self, meeting_id: str, frames: list[bytes]) -> None:
        """Another instance's messages for a meeting (sidecar/relay/notes.py)."""
        room = self._rooms.get(meeting_id)
        if room is not None:
            room.take_remote(frames)
        else:
            early = self._early.get(meeting_id)
            if early is not None:
                early.append(frames)

    async def resync(self) -> None:
        """Every room in memory reads its notes again (after a Redis loss, and while down), and
        asks the other instances who is present (dropped while Redis is down)."""
        remote = self.fanout.remote
        for room in list(self._rooms.values()):
            if self._rooms.get(room.meeting_id) is not room:
                continue
            if remote is not None:  # and to read the store, for what this one failed to publish
                remote.publish(room.meeting_id, (QUERY_AWARENESS, RESYNC_SIGNAL))
            try:
                await room.resync()
            except Exception as exc:  # the next resync tries again
                log.warning("resyncing the notes of %s failed: %s", room.meeting_id, exc)

    async def drop(self, room: Room, code: int, reason: bytes) -> None:
        """Forget a room whose memory cannot be trusted and close its sockets.

        Its clients reconnect, the room reloads from storage, and each client's sync step 2
        re-sends whatever storage lacks, so an update that failed to store is not lost.
        """
        if self._rooms.get(room.meeting_id) is room:
            self._forget(room)
        for conn in list(room.connections):
            await conn.ws.close(code=code, message=reason)

    async def leave(self, room: Room, conn: Connection) -> None:
        room.connections.discard(conn)
        gone = room.awareness.leave(conn)
        if gone is not None:
            frame = protocol.awareness(gone)
            remote = self.fanout.remote
            if remote is not None:
                remote.publish(room.meeting_id, (frame,))
            await self.fanout.deliver([c.ws for c in room.connections], frame)
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
        self._forget(room)
        await room.close()
        log.debug("notes of %s left memory", room.meeting_id)

    async def _load(self, meeting_id: str, first_text: Callable[[], str]) -> Room:
        """The room, its notes kept as the stored updates merged into one (see `Room.doc`)."""
        stored = await self.store.load(meeting_id)
        size, count = stored.size, len(stored.updates)
        if not stored.updates:
            # A new meeting's notes start with its title and date, written once by the service.
            # Its Yjs client id follows from the meeting, so two instances opening a new meeting
            # at once write the same update, which Yjs applies once: one heading, not two.
            doc: Doc[Text] = Doc(client_id=heading_client_id(meeting_id))
            text = doc.get(TEXT_NAME, type=Text)
            with doc.transaction():
                text.insert(0, first_text())
            merged = doc.get_update()
            await self.store.submit(meeting_id, merged, None)
            size, count = len(merged), 1
        elif count == 1:
            merged = stored.updates[0]
        else:  # merging keeps what a Doc would hold pending (an update whose causes are missing)
            merged = merge_updates(*stored.updates)
        get_state(merged)  # a stored update that does not decode fails the join, as applying did
        room = Room(meeting_id, None, self.store, self.fanout, self.limits, size, count)
        room._stored = merged
        room.snapshot_bytes = size  # what is stored counts as the last snapshot
        room.on_storage_failed = self._storage_failed
        return room

    async def _storage_failed(self, room: Room) -> None:
        log.error("storing a note update of %s failed; reloading the room", room.meeting_id)
        await self.drop(room, 1011, b"storage failed; reconnect to resync")

    async def read_text(self, meeting_id: str) -> str:
        """The notes as text, from memory when the room is open, else from storage."""
        room = self._rooms.get(meeting_id)
        if room is not None:
            await room.flushed()  # what was received so far, once committed
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
