"""Live notes on SQLite: group commit on the event loop's thread, on a connection of its own.

The commit runs on the event loop's own thread, on the store's own SQLite connection: a batch
of small inserts in WAL mode with `synchronous=NORMAL` costs tens of microseconds, far less than
handing it to a worker thread (executor queue, thread wake-ups, GIL hand-overs and the loop's
self-pipe cost more CPU than the commit itself). The connection never waits for a lock: when
another connection holds the write lock, the batch stays queued (and keeps growing) and the
commit is retried shortly, so the loop is never blocked on SQLite's busy timeout. How far apart
commits are follows the load (`sidecar.notes.store.CommitPacing`).

Commits append to `note_updates_recent`, a table without an index, so a commit dirties that
table's last page or two, whatever the number of meetings in it; through `note_updates` and its
`(meeting_id, id)` index, each row of a commit dirtied a leaf of its own meeting (run H in
bench/README.md: a commit of five rows over 50 meetings wrote about seven pages). The
checkpoint thread files the recent rows into `note_updates` before each checkpoint, a thousand
at a time, each meeting's leaf once per filing. A meeting's notes are its filed rows, then its
recent ones, each in id order, read in one statement (one snapshot of the database).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sidecar.db.notes.batch import (
    MAX_COMPACTIONS_PER_COMMIT,
    CommitQueue,
    PendingCommit,
    merged,
)
from sidecar.notes.store import DEFAULT_COMMIT_WINDOW_SECONDS, StoredNotes

log = logging.getLogger(__name__)
# While another connection holds SQLite's write lock, retry the commit this often.
LOCKED_RETRY_SECONDS = 0.002
# Copy the write-ahead log back into the database after this many commits, or sooner once this
# many rows were written (each row dirties about one page of the log): SQLite's own automatic
# checkpoint would fsync on the event loop. Fewer, larger checkpoints copy a page rewritten by
# many commits once.
CHECKPOINT_EVERY_COMMITS = 1000
CHECKPOINT_EVERY_ROWS = 4000

# The checkpoint starts the log over in place (RESTART) while its file is smaller than this, and
# empties the file (TRUNCATE) once it is larger: see `_checkpoint`.
WAL_TRUNCATE_ABOVE_BYTES = 64 * 1024 * 1024
# A RESTART that finds the write lock or a reader in its way is tried again this often, up to
# this many times, without waiting on SQLite's busy handler; then the next checkpoint tries.
RESTART_RETRY_SECONDS = 0.001
RESTART_TRIES = 200

# Rows filed into note_updates per transaction of the checkpoint thread: each transaction holds
# the write lock (and the loop's commits wait, see `_retry_locked`) for a few milliseconds.
FILE_CHUNK_ROWS = 1000

# From this many meetings typing, commits write note_updates itself, as before migration 19;
# below the second figure they go back to the recent table. With hundreds of meetings a filing
# of a thousand rows holds two or three per meeting, so it saves few page writes, and it holds
# the write lock that the loop's commits then wait for: at 400 meetings p99 was 70-108 ms
# through the recent table against 48 ms writing note_updates (bench/README.md, run I).
DIRECT_FROM_MEETINGS = 200
RECENT_BELOW_MEETINGS = 150

_INSERT_RECENT = (
    "INSERT INTO note_updates_recent (meeting_id, data, created_by, created_at) VALUES (?, ?, ?, ?)"
)
_INSERT_FILED = (
    "INSERT INTO note_updates (meeting_id, data, created_by, created_at) VALUES (?, ?, ?, ?)"
)
# Going over to note_updates: every recent row is filed first, in the same transaction, so a
# meeting's filed rows stay older than its recent ones.
_FILE_ALL = (
    "INSERT INTO note_updates (meeting_id, data, created_by, created_at)"
    " SELECT meeting_id, data, created_by, created_at FROM note_updates_recent"
    " ORDER BY meeting_id, id"
)
_FILED_ALL = "DELETE FROM note_updates_recent"
# A meeting's rows in order: the filed ones, then the recent ones.
_ROWS_OF = (
    "SELECT 0 AS recent, id, data, created_by FROM note_updates WHERE meeting_id = ?"
    " UNION ALL SELECT 1, id, data, created_by FROM note_updates_recent WHERE meeting_id = ?"
    " ORDER BY recent, id"
)
_LAST_OF_CHUNK = "SELECT id FROM note_updates_recent ORDER BY id LIMIT 1 OFFSET ?"
_LAST_RECENT = "SELECT max(id) FROM note_updates_recent"
# Filing is one statement: inserting a bound into this connection's temporary table files every
# recent row up to it (each meeting's together, so its leaf of the index is written once, in
# their order) and deletes them, atomically. As one statement it holds the write lock only while
# SQLite runs, with the GIL released: as several, the lock stayed held while this thread waited
# for the GIL between them (up to the 5 ms switch interval each; 20 ms per thousand rows at the
# median at 400 meetings, 140 at p99, with the loop's commits retried meanwhile).
_FILING = """
CREATE TEMP TABLE note_filing (up_to INTEGER NOT NULL);
CREATE TEMP TRIGGER note_filing_files AFTER INSERT ON note_filing BEGIN
    INSERT INTO note_updates (meeting_id, data, created_by, created_at)
        SELECT meeting_id, data, created_by, created_at FROM note_updates_recent
        WHERE id <= NEW.up_to ORDER BY meeting_id, id;
    DELETE FROM note_updates_recent WHERE id <= NEW.up_to;
    DELETE FROM note_filing;
END;
"""
_FILE_UP_TO = "INSERT INTO note_filing (up_to) VALUES (?)"


class SqliteNotesStore(CommitQueue):
    coalesce_reads = True  # its commits run on the loop's thread: see CommitQueue

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = 5000,
        max_batch: int = 5000,
        commit_window_seconds: float = DEFAULT_COMMIT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(commit_window_seconds, max_batch, clock)
        self._path = path
        self._busy_timeout = busy_timeout_ms / 1000
        # The checkpoint connection waits for locks (the loop's never does, see start).
        self._waiting_busy_timeout = f"PRAGMA busy_timeout={busy_timeout_ms}"
        self._log = path.with_name(path.name + "-wal")
        self._conn: sqlite3.Connection | None = None
        self._locked_since: float | None = None
        # Checkpoints run on a thread of their own, with their own connection: they write the
        # database file and fsync it, which must not hold up the event loop.
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notes-wal")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        self._commits_since_checkpoint = 0
        self._rows_since_checkpoint = 0
        self._writing_filed = False  # whether commits write note_updates itself (see above)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")  # as every connection: see sidecar/privacy.py
        # Never block the event loop on another connection's lock: a busy commit is retried.
        conn.execute("PRAGMA busy_timeout=0")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # see _checkpoint
        self._conn = conn

    async def stop(self) -> None:
        """Commit whatever is queued, then close the connection."""
        while self._batch is not None and self._conn is not None:
            done = self._batch.done
            self._flush()
            if not done.done():
                await asyncio.sleep(LOCKED_RETRY_SECONDS)
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if self._checkpointing is not None:
            await self._checkpointing
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._checkpointer, self._close_checkpointer)
        self._checkpointer.shutdown(wait=True)

    def _running(self) -> bool:
        return self._conn is not None

    def _may_flush_now(self) -> bool:
        return self._locked_since is None  # a locked commit is being retried on its own clock

    def _flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()  # when called directly; harmless from the handle itself
            self._scheduled = None
        batch = self._batch
        if batch is None or self._conn is None:
            return
        if self._compactions and not batch.compactions:
            for _ in range(min(MAX_COMPACTIONS_PER_COMMIT, len(self._compactions))):
                meeting_id, stored = self._compactions.popleft()
                batch.compactions.append((len(batch.rows), meeting_id, stored))
        started = self._clock()
        try:
            sizes = self._commit(batch)
        except sqlite3.OperationalError as exc:
            if _is_locked(exc) and self._retry_locked(started):
                return
            self._failed(batch, exc)
        except Exception as exc:
            self._failed(batch, exc)
        else:
            self._batch = None
            self._locked_since = None
            self.pacing.record([row[0] for row in batch.rows])
            batch.committed(sizes)
            self._commits_since_checkpoint += 1
            self._rows_since_checkpoint += len(batch.rows)
            if (
                self._commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS
                or self._rows_since_checkpoint >= CHECKPOINT_EVERY_ROWS
            ):
                self._start_checkpoint()
            if self._compactions:
                self._pending()  # the next commit takes the next compactions
        finally:
            self._last_commit = self._clock()

    def _start_checkpoint(self) -> None:
        if self._checkpointing is not None or self._loop is None:
            return
        self._commits_since_checkpoint = self._rows_since_checkpoint = 0
        self._checkpointing = self._loop.run_in_executor(self._checkpointer, self._checkpoint)
        self._checkpointing.add_done_callback(self._checkpointed)

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("checkpointing the notes' write-ahead log failed: %r", done.exception())

    def _checkpoint(self) -> None:
        """On the checkpoint thread: file the recent rows, copy the log into the database and
        start it over.

        A PASSIVE pass copies and syncs the log without stopping the commits. Alone it is not
        enough: under steady writing it never catches up with the last frame, the log is never
        started over, and it grows without end (8.9 GB in two minutes of the 1,000-meeting
        soak). So a RESTART follows, which starts the log over from its first frame once every
        frame is in the database; after the PASSIVE pass only the last few are left, so it holds
        the write lock for about 0.1 ms. It is tried without waiting: with the busy handler it
        slept 1, 2, 5, 10 ms while a commit of the loop held the lock, and the loop's commits
        then waited on it in turn (`_retry_locked`); p99 at 450 meetings was 28-44 ms with the
        handler, 29 ms trying every millisecond (bench/README.md, run J).

        RESTART reuses the file at the largest size it ever reached (1.4 GB after a burst of
        room loads held the log back), so past `WAL_TRUNCATE_ABOVE_BYTES` a TRUNCATE empties it
        instead, waiting for the lock as long as the busy timeout: it holds the write lock for
        the ftruncate, 5-40 ms, which is why it is not done every time (run J: p99 33-39 ms).
        """
        conn = self._checkpoint_conn
        if conn is None:
            conn = self._checkpoint_conn = sqlite3.connect(self._path, isolation_level=None)
            conn.execute(self._waiting_busy_timeout)
            conn.execute("PRAGMA secure_delete=ON")  # filing deletes rows
            conn.executescript(_FILING)
        while self._file_recent_chunk(conn):
            pass
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        if self._log_size() > WAL_TRUNCATE_ABOVE_BYTES:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        else:
            self._restart_log_without_waiting(conn)

    def _log_size(self) -> int:
        try:
            return self._log.stat().st_size
        except FileNotFoundError:
            return 0

    def _restart_log_without_waiting(self, conn: sqlite3.Connection) -> bool:
        """RESTART, retried every `RESTART_RETRY_SECONDS` while the write lock or a reader of
        an older snapshot is in the way; whether the log was started over."""
        conn.execute("PRAGMA busy_timeout=0")
        try:
            for _ in range(RESTART_TRIES):
                try:
                    busy = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]
                except sqlite3.OperationalError as exc:
                    if not _is_locked(exc):
                        raise
                    busy = 1
                if not busy:
                    return True
                time.sleep(RESTART_RETRY_SECONDS)
            return False
        finally:
            conn.execute(self._waiting_busy_timeout)

    @staticmethod
    def _file_recent_chunk(conn: sqlite3.Connection) -> bool:
        """Move the oldest `FILE_CHUNK_ROWS` recent rows into note_updates in one statement;
        whether more are left. Oldest first, so each meeting's filed rows stay before its
        recent ones. The bound is read first, outside the write lock: rows are only ever
        appended after it (or deleted by a compaction, which `<=` does not mind)."""
        row = conn.execute(_LAST_OF_CHUNK, (FILE_CHUNK_ROWS - 1,)).fetchone()
        last = row[0] if row is not None else conn.execute(_LAST_RECENT).fetchone()[0]
        if last is not None:
            conn.execute(_FILE_UP_TO, (last,))  # autocommit: its own transaction
        return row is not None

    def _close_checkpointer(self) -> None:
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None

    def _retry_locked(self, now: float) -> bool:
        """Another connection writes: keep the batch (it grows) and try again shortly."""
        if self._locked_since is None:
            self._locked_since = now
        if now - self._locked_since > self._busy_timeout:
            return False
        assert self._loop is not None
        if self._scheduled is None:
            self._scheduled = self._loop.call_later(LOCKED_RETRY_SECONDS, self._flush)
        return True

    def _failed(self, batch: PendingCommit, exc: BaseException) -> None:
        self._batch = None
        self._locked_since = None
        batch.failed(exc)

    def _commit(self, batch: PendingCommit) -> list[int]:
        """One transaction: the rows, with each compaction at its place among them."""
        assert self._conn is not None
        conn = self._conn
        meetings = self.pacing.meetings()
        filed = meetings >= (RECENT_BELOW_MEETINGS if self._writing_filed else DIRECT_FROM_MEETINGS)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if filed and not self._writing_filed:
                conn.execute(_FILE_ALL)
                conn.execute(_FILED_ALL)
            insert = _INSERT_FILED if filed else _INSERT_RECENT
            sizes = []
            for rows, compacting in batch.segments():
                if rows:
                    conn.executemany(insert, rows)
                if compacting is not None:
                    sizes.append(self._compact(compacting, batch.created_at))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._writing_filed = filed
        return sizes

    def _compact(self, meeting_id: str, now: str) -> int:
        assert self._conn is not None
        conn = self._conn
        rows = conn.execute(_ROWS_OF, (meeting_id, meeting_id)).fetchall()
        snapshot = merged(meeting_id, [bytes(row[2]) for row in rows])
        if snapshot is None:
            return sum(len(row[2]) for row in rows)
        for recent, table in ((0, "note_updates"), (1, "note_updates_recent")):
            ids = [row[1] for row in rows if row[0] == recent]
            if ids:
                conn.execute(
                    f"DELETE FROM {table} WHERE meeting_id = ? AND id <= ?", (meeting_id, ids[-1])
                )
        # A merged snapshot has many authors; it keeps the latest writer as its author.
        conn.execute(
            "INSERT INTO note_updates (meeting_id, data, created_by, created_at, is_snapshot)"
            " VALUES (?, ?, ?, ?, 1)",
            (meeting_id, snapshot, rows[-1][3], now),
        )
        log.debug("compacted %d note updates of %s: %d bytes", len(rows), meeting_id, len(snapshot))
        return len(snapshot)

    async def load(self, meeting_id: str) -> StoredNotes:
        """Every stored update of a meeting, in order (a few rows once compacted: read inline)."""
        if self._conn is None:
            raise RuntimeError("notes store is not running")
        rows = self._conn.execute(_ROWS_OF, (meeting_id, meeting_id)).fetchall()
        updates = [bytes(row[2]) for row in rows]
        return StoredNotes(updates, sum(len(u) for u in updates))


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
