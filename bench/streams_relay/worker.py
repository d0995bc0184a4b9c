"""y-redis's worker (src/api.js `consumeWorkerQueue`): moves the streams into PostgreSQL.

Each stream has one task in the worker stream, held by the consumer "pending" until a worker
claims it (`XAUTOCLAIM`, idle for the debounce: 10 s). For each task: an empty stream is
deleted with its task; otherwise the stream's updates and the meeting's stored rows are merged
into one snapshot row (replacing the rows, in one transaction) if the stream held anything new,
then the stream is trimmed to `MIN_MESSAGE_LIFETIME_MS` before its last entry and the task is
queued again (so the stream is compacted again a debounce later). With no task due it waits 1 s.

One difference: y-redis waits that second after every empty `XAUTOCLAIM` reply. On Redis 7 the
task entries a round deleted (`XDEL`) are purged from the group's list by the next `XAUTOCLAIM`,
which counts them against its COUNT, so the reply after every round of 5 is empty although tasks
are due (seen on Redis 7.0.15: 5 compactions a second, then a 1 s wait, over and over): one such
worker compacts about 5 streams a second and, at its 10 s debounce, falls behind past about 50
open documents (the 15 s benchmark windows at 200 and 400 meetings had persisted 55-60
meetings). This worker claims again at once when a reply purged deleted tasks
(`STREAMS_WORKER_AS_Y_REDIS=1`: wait as y-redis does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
import uuid
from typing import Any

import asyncpg
from pycrdt import get_state, get_update, merge_updates
from redis.asyncio import Redis

from sidecar.db.notes.postgres import _DELETE_UP_TO, _INSERT_SNAPSHOT, _ROWS_OF
from sidecar.domain.ids import now_iso
from sidecar.notes import protocol
from streams_relay import (
    CLAIM_COUNT,
    MIN_MESSAGE_LIFETIME_MS,
    TASK_DEBOUNCE_MS,
    WORKER_GROUP,
    WORKER_STREAM,
    meeting_of,
)
from streams_relay.store import ensure_worker_group

log = logging.getLogger("streams_relay.worker")

AS_Y_REDIS = os.environ.get("STREAMS_WORKER_AS_Y_REDIS") == "1"

DELETE_IF_EMPTY = """
if redis.call("XLEN", KEYS[1]) == 0 then
  redis.call("DEL", KEYS[1])
end
"""


def _ms(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


def _merge(updates: list[bytes]) -> bytes:
    return updates[0] if len(updates) == 1 else merge_updates(*updates)


class Worker:
    def __init__(self, redis_url: str, database_url: str) -> None:
        self.redis_url = redis_url
        self.database_url = database_url
        self.consumer = uuid.uuid4().hex.encode()
        self.compacted = 0
        self.persisted = 0
        self.rounds = 0
        self.idle_rounds = 0  # no task due
        self.busy_s = 0.0  # in rounds that had tasks
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        client = Redis.from_url(self.redis_url)
        pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=CLAIM_COUNT)
        try:
            await ensure_worker_group(client)
            log.info(
                "worker %s: debounce %d ms, minimum message lifetime %d ms",
                self.consumer.decode(),
                TASK_DEBOUNCE_MS,
                MIN_MESSAGE_LIFETIME_MS,
            )
            while not self._stopping.is_set():
                try:
                    started = time.monotonic()
                    self.rounds += 1
                    tasks, purged = await self._claim(client)
                    if not tasks and purged and not AS_Y_REDIS:
                        continue  # the COUNT went on purged entries: tasks may be due
                    if not tasks:
                        self.idle_rounds += 1
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._stopping.wait(), 1.0)
                        continue
                    await asyncio.gather(*(self._compact(client, pool, *t) for t in tasks))
                    self.busy_s += time.monotonic() - started
                except Exception:
                    log.exception("a worker round failed; trying again")
                    await asyncio.sleep(1.0)
        finally:
            log.info(
                "worker done: %d compactions, %d persisted; %d rounds, %d with no task due, "
                "%.1f s in the others",
                self.compacted,
                self.persisted,
                self.rounds,
                self.idle_rounds,
                self.busy_s,
            )
            await pool.close()
            await client.aclose()

    async def _claim(self, client: Redis) -> tuple[list[tuple[bytes, bytes]], int]:
        """Tasks due, and how many deleted ones the reply purged."""
        reply: Any = await client.xautoclaim(
            WORKER_STREAM,
            WORKER_GROUP,
            self.consumer,
            min_idle_time=TASK_DEBOUNCE_MS,
            start_id="0-0",
            count=CLAIM_COUNT,
        )
        claimed = reply[1] if len(reply) > 1 else []
        purged = len(reply[2]) if len(reply) > 2 else 0
        tasks = [
            (bytes(task_id), bytes(fields[b"compact"]))
            for task_id, fields in claimed
            if fields and b"compact" in fields
        ]
        return tasks, purged

    async def _compact(self, client: Redis, pool: Any, task_id: bytes, stream: bytes) -> None:
        if await client.xlen(stream) == 0:
            pipe = client.pipeline(transaction=True)
            pipe.eval(DELETE_IF_EMPTY, 1, stream)
            pipe.xdel(WORKER_STREAM, task_id)
            await pipe.execute()
            return
        meeting_id = meeting_of(stream)
        entries: Any = await client.xrange(stream)  # the stream first, as getDoc
        fresh = [
            protocol.sync_payload(m)
            for _, fields in entries
            if (m := fields.get(b"m")) is not None and protocol.is_update_frame(m)
        ]
        async with pool.acquire() as conn:
            rows = await conn.fetch(_ROWS_OF, meeting_id)
            stored = [bytes(row["data"]) for row in rows]
            if fresh and self._changes(stored, fresh):
                snapshot = _merge(stored + fresh)
                async with conn.transaction():
                    if rows:
                        await conn.execute(_DELETE_UP_TO, meeting_id, rows[-1]["id"])
                    author = rows[-1]["created_by"] if rows else None
                    await conn.execute(_INSERT_SNAPSHOT, meeting_id, snapshot, author, now_iso())
                self.persisted += 1
        last = max(_ms(bytes(entries[-1][0])) if entries else 0, _ms(task_id))
        pipe = client.pipeline(transaction=True)
        # Exact, as y-redis (node-redis sends no `~`).
        pipe.xtrim(stream, minid=str(last - MIN_MESSAGE_LIFETIME_MS), approximate=False)
        pipe.xadd(WORKER_STREAM, {b"compact": stream})
        pipe.xreadgroup(WORKER_GROUP.decode(), "pending", {WORKER_STREAM: b">"}, count=50)
        pipe.xdel(WORKER_STREAM, task_id)
        await pipe.execute()
        self.compacted += 1

    @staticmethod
    def _changes(stored: list[bytes], fresh: list[bytes]) -> bool:
        """Whether the stream's updates add anything to what is stored (y-redis: docChanged)."""
        if not stored:
            return True
        before = _merge(stored)
        state = get_state(before)
        # An update always carries its delete set: the stored one alone means nothing is new.
        return get_update(_merge([before, *fresh]), state) != get_update(before, state)


async def _main() -> None:
    env = os.environ
    worker = Worker(env["MENTOR_SIDECAR_REDIS_URL"], env["MENTOR_SIDECAR_DATABASE_URL"])
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    await worker.run()


def main() -> int:
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main())
    return 0
