"""Live notes on PostgreSQL: the same group commit as SQLite's, on a connection of its own.

A commit here is a round trip to the server, so it runs as a task: while it is on the wire, what
arrives gathers in the next batch, which commits as soon as the one before is done (or, under
load, the commit window after it: `CommitPacing`, as on SQLite). One connection, one commit at a
time, so the rows keep the order they arrived in, and a batch's future is resolved only once
PostgreSQL has answered its COMMIT: what a room relays is on the server's disk (the service's
`kill -9` cannot touch it; PostgreSQL's own crash recovery keeps what it committed).

A batch without a compaction is one statement (an INSERT of the unnested arrays of its rows:
one round trip, atomic by itself); a compaction, like SQLite's, runs inside its batch's
transaction after the rows submitted before it, replacing the meeting's rows by one snapshot.
Rooms load through the service's `Database` (its pool), so a load never waits for a commit on
this connection. SQL on this connection uses asyncpg's own `$n` placeholders.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sidecar.db.database import Database
from sidecar.db.notes.batch import (
    MAX_COMPACTIONS_PER_COMMIT,
    CommitQueue,
    PendingCommit,
    Row,
    merged,
)
from sidecar.notes.store import DEFAULT_COMMIT_WINDOW_SECONDS, StoredNotes

log = logging.getLogger(__name__)

# An asyncpg connection (asyncpg ships no type information).
Connection = Any
Connect = Callable[[], Awaitable[Connection]]

_INSERT_ROWS = (
    "INSERT INTO note_updates (meeting_id, data, created_by, created_at, is_snapshot)"
    " SELECT meeting_id, data, created_by, $4, 0"
    " FROM unnest($1::text[], $2::bytea[], $3::text[]) WITH ORDINALITY"
    " AS batch(meeting_id, data, created_by, n) ORDER BY n"
)
_ROWS_OF = "SELECT id, data, created_by FROM note_updates WHERE meeting_id = $1 ORDER BY id"
_DELETE_UP_TO = "DELETE FROM note_updates WHERE meeting_id = $1 AND id <= $2"
_INSERT_SNAPSHOT = (
    "INSERT INTO note_updates (meeting_id, data, created_by, created_at, is_snapshot)"
    " VALUES ($1, $2, $3, $4, 1)"
)
# An embedded install's newest rows, copied here by `migrate-data` (migration 19): filed into
# note_updates after the meeting's older rows, each meeting's in their order. DELETE ... RETURNING
# takes each row once, even with several instances starting together.
_FILE_RECENT = (
    "WITH filed AS (DELETE FROM note_updates_recent"
    " RETURNING id, meeting_id, data, created_by, created_at)"
    " INSERT INTO note_updates (meeting_id, data, created_by, created_at, is_snapshot)"
    " SELECT meeting_id, data, created_by, created_at, 0 FROM filed ORDER BY meeting_id, id"
)


class PostgresNotesStore(CommitQueue):
    # The knees this store was measured with (run F, the cluster benchmark: then 200 and 2,000
    # updates a second, about 20 and 200 meetings, with a 10 ms window; the full window is 20 ms
    # since, reached at 400, so the wait at each load up to 200 is what it was). Its commit is a
    # round trip to another process, with the loop free meanwhile, so the wake-ups that make
    # SQLite's store wait the whole window from 40 meetings weigh less here, and a shorter wait
    # keeps a pair split over two instances at a few milliseconds (README, Several instances:
    # 6.7 ms p50 at 50 meetings with SQLite's knees, against the 5 ms target).
    at_once_below_meetings = 20
    full_window_from_meetings = 400

    def __init__(
        self,
        db: Database,
        connect: Connect,
        *,
        lock_timeout_ms: int = 5000,
        statement_timeout_seconds: float = 30.0,
        max_batch: int = 5000,
        commit_window_seconds: float = DEFAULT_COMMIT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(commit_window_seconds, max_batch, clock)
        self._db = db
        self._connect = connect
        # A commit that waits this long for a lock held elsewhere fails (PostgreSQL's
        # lock_timeout), or this long for anything (a server gone quiet): its rooms are dropped
        # and their clients resync, as after SQLite's busy timeout.
        self._lock_timeout_ms = lock_timeout_ms
        self._timeout = statement_timeout_seconds
        self._conn: Connection | None = None
        self._committing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._conn = await self._connection()
        await self._conn.execute(_FILE_RECENT, timeout=self._timeout)

    async def _connection(self) -> Connection:
        conn = await self._connect()
        try:
            await conn.execute(f"SET lock_timeout = {int(self._lock_timeout_ms)}")
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def stop(self) -> None:
        """Commit whatever is queued, then close the connection."""
        while self._conn is not None and (
            self._committing is not None or self._batch is not None or self._compactions
        ):
            if self._committing is not None:
                await asyncio.shield(self._committing)  # it handles its own failure
            else:
                self._pending()  # a batch for the compactions left, if that is all
                self._flush()  # starts the commit awaited on the next pass
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await asyncio.wait_for(conn.close(), self._timeout)
            except Exception:  # a server already gone: nothing is left to commit
                conn.terminate()

    def _running(self) -> bool:
        return self._conn is not None

    def _may_schedule(self) -> bool:
        return self._committing is None  # a commit on the wire schedules the next one

    _may_flush_now = _may_schedule

    def _flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()  # when called directly; harmless from the handle itself
            self._scheduled = None
        batch = self._batch
        if batch is None or self._conn is None or self._committing is not None:
            return  # a commit on the wire schedules the next one when it is done
        self._batch = None
        for _ in range(min(MAX_COMPACTIONS_PER_COMMIT, len(self._compactions))):
            meeting_id, stored = self._compactions.popleft()
            batch.compactions.append((len(batch.rows), meeting_id, stored))
        assert self._loop is not None
        self._committing = self._loop.create_task(self._commit(batch))

    async def _commit(self, batch: PendingCommit) -> None:
        try:
            sizes = await self._write(batch)
        except Exception as exc:
            batch.failed(exc)
        else:
            self.pacing.record([row[0] for row in batch.rows])
            batch.committed(sizes)
        finally:
            self._last_commit = self._clock()
            self._committing = None
            if self._conn is not None and (self._batch is not None or self._compactions):
                self._pending()  # what arrived meanwhile, and the next compactions
                if not isinstance(self._scheduled, asyncio.TimerHandle):
                    self._flush()  # no window to wait for: the next commit leaves now

    async def _write(self, batch: PendingCommit) -> list[int]:
        conn = self._conn
        if conn is None:
            raise RuntimeError("notes store is not running")
        if conn.is_closed():  # the server went away: this commit tries a new connection
            conn = self._conn = await self._connection()
        if not batch.compactions:  # one statement, atomic by itself
            await self._insert(conn, batch.rows, batch.created_at)
            return []
        sizes = []
        async with conn.transaction():
            for rows, compacting in batch.segments():
                if rows:
                    await self._insert(conn, rows, batch.created_at)
                if compacting is not None:
                    sizes.append(await self._compact(conn, compacting, batch.created_at))
        return sizes

    async def _insert(self, conn: Connection, rows: list[Row], created_at: str) -> None:
        if not rows:
            return
        meetings, updates, authors, _ = zip(*rows, strict=True)
        arrays = list(meetings), list(updates), list(authors)
        await conn.execute(_INSERT_ROWS, *arrays, created_at, timeout=self._timeout)

    async def _compact(self, conn: Connection, meeting_id: str, now: str) -> int:
        rows = await conn.fetch(_ROWS_OF, meeting_id, timeout=self._timeout)
        snapshot = merged(meeting_id, [bytes(row["data"]) for row in rows])
        if snapshot is None:
            return sum(len(row["data"]) for row in rows)
        await conn.execute(_DELETE_UP_TO, meeting_id, rows[-1]["id"], timeout=self._timeout)
        # A merged snapshot has many authors; it keeps the latest writer as its author.
        author = rows[-1]["created_by"]
        await conn.execute(
            _INSERT_SNAPSHOT, meeting_id, snapshot, author, now, timeout=self._timeout
        )
        log.debug("compacted %d note updates of %s: %d bytes", len(rows), meeting_id, len(snapshot))
        return len(snapshot)

    async def load(self, meeting_id: str) -> StoredNotes:
        """Every stored update of a meeting, in order, through the service's pool."""
        if self._conn is None:
            raise RuntimeError("notes store is not running")
        rows = await self._db.fetch_all(
            "SELECT data FROM note_updates WHERE meeting_id = ? ORDER BY id", (meeting_id,)
        )
        updates = [bytes(row["data"]) for row in rows]
        return StoredNotes(updates, sum(len(u) for u in updates))
