"""The meetings' streams as the notes store: `submit` is an `XADD`, `load` the stream's tail and
PostgreSQL (y-redis's `addMessage` and `getDoc`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from sidecar.db.database import Database
from sidecar.notes import protocol
from sidecar.notes.store import CommitPacing, StoredNotes
from streams_relay import WORKER_GROUP, WORKER_STREAM, stream_key

log = logging.getLogger(__name__)

# y-redis's addMessage script, with the worker stream and group as arguments and the writing
# instance's tag beside the message: a new stream queues its first compaction task, claimed at
# once by the consumer "pending", so a worker takes it over (XAUTOCLAIM) after the debounce.
ADD_MESSAGE = """
if redis.call("EXISTS", KEYS[1]) == 0 then
  redis.call("XADD", KEYS[2], "*", "compact", KEYS[1])
  redis.call("XREADGROUP", "GROUP", ARGV[3], "pending", "STREAMS", KEYS[2], ">")
end
redis.call("XADD", KEYS[1], "*", "m", ARGV[1], "i", ARGV[2])
"""

_LOAD_ROWS = "SELECT data FROM note_updates WHERE meeting_id = ? ORDER BY id"


async def ensure_worker_group(client: Redis) -> None:
    try:
        await client.xgroup_create(WORKER_STREAM, WORKER_GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class _Batch:
    __slots__ = ("done", "items")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.items: list[tuple[bytes, bytes]] = []  # (stream, message)
        self.done: asyncio.Future[None] = loop.create_future()


class StreamLog:
    """Appends messages to the meetings' streams: what arrives in one loop turn (or while the
    previous pipeline is on the wire) goes out as one pipeline of script calls; its future is
    done once Redis answered every one."""

    def __init__(self, client: Redis, tag: bytes) -> None:
        self.client = client
        self.tag = tag
        self._sha = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch: _Batch | None = None
        self._scheduled = False
        self._sending: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._sha = str(await self.client.script_load(ADD_MESSAGE))
        await ensure_worker_group(self.client)

    def append(self, meeting_id: str, message: bytes) -> asyncio.Future[None]:
        loop = self._loop
        if loop is None:
            raise RuntimeError("the stream log is not running")
        batch = self._batch
        if batch is None:
            batch = self._batch = _Batch(loop)
        batch.items.append((stream_key(meeting_id), message))
        if not self._scheduled and self._sending is None:
            self._scheduled = True
            loop.call_soon(self._flush)
        return batch.done

    def _flush(self) -> None:
        self._scheduled = False
        batch = self._batch
        if batch is None or self._sending is not None:
            return  # the pipeline on the wire sends the next batch when it is done
        self._batch = None
        assert self._loop is not None
        self._sending = self._loop.create_task(self._send(batch))

    async def _send(self, batch: _Batch) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, message in batch.items:
                pipe.evalsha(self._sha, 2, key, WORKER_STREAM, message, self.tag, WORKER_GROUP)
            await pipe.execute()
        except Exception as exc:
            log.error("appending %d message(s) to Redis failed: %r", len(batch.items), exc)
            batch.done.set_exception(exc)
            batch.done.exception()  # retrieved: awareness senders do not look
        else:
            batch.done.set_result(None)
        finally:
            self._sending = None
            if self._batch is not None:
                self._flush()

    async def stop(self) -> None:
        while self._sending is not None or self._batch is not None:
            if self._sending is None:
                self._flush()
            sending = self._sending
            if sending is not None:
                await asyncio.shield(sending)


class StreamsNotesStore:
    """`sidecar.notes.store.RunningNotesStore` over the streams: rooms relay an update once its
    `XADD` is acknowledged; the worker moves it to PostgreSQL later."""

    def __init__(self, stream_log: StreamLog, db: Database) -> None:
        self.log = stream_log
        self.client = stream_log.client
        self.db = db
        self.pacing = CommitPacing(0.0)  # unused: batching is per loop turn
        self._sizes: dict[str, int] = {}

    async def start(self) -> None:
        await self.log.start()

    async def stop(self) -> None:
        await self.log.stop()

    def submit(self, meeting_id: str, update: bytes, author: str | None) -> asyncio.Future[None]:
        # y-redis keeps no author: the worker's snapshot keeps the last stored row's.
        self._sizes[meeting_id] = self._sizes.get(meeting_id, 0) + len(update)
        return self.log.append(meeting_id, protocol.sync_update(update))

    async def load(self, meeting_id: str) -> StoredNotes:
        """The stream first, then PostgreSQL: an update the worker trims in between was
        persisted before it was trimmed."""
        entries: Any = await self.client.xrange(stream_key(meeting_id))
        rows = await self.db.fetch_all(_LOAD_ROWS, (meeting_id,))
        updates = [bytes(row["data"]) for row in rows]
        for _, fields in entries:
            message = fields.get(b"m")
            if message is not None and protocol.is_update_frame(message):
                updates.append(protocol.sync_payload(message))
        size = sum(len(u) for u in updates)
        self._sizes[meeting_id] = size
        return StoredNotes(updates, size)

    async def compact(self, meeting_id: str) -> int:
        """The worker compacts; the room only learns the size it counts against its limit."""
        return self._sizes.get(meeting_id, 0)
