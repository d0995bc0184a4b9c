"""Durable storage of note updates, with group commit and compaction.

`submit` queues an update and returns the future of the commit that will hold it; the room
relays the update only once that future is done, so a crash never loses an update anyone was
shown. Every update submitted before a commit starts shares that commit, and all of them share
one future.

The commit runs on the event loop's own thread, on the store's own SQLite connection: a batch
of small inserts in WAL mode with `synchronous=NORMAL` costs tens of microseconds, far less than
handing it to a worker thread (executor queue, thread wake-ups, GIL hand-overs and the loop's
self-pipe cost more CPU than the commit itself). The connection never waits for a lock: when
another connection holds the write lock, the batch stays queued (and keeps growing) and the
commit is retried shortly, so the loop is never blocked on SQLite's busy timeout.

How long commits are apart adapts to the load (`CommitPacing`): a few pairs typing are each
committed at once (on the loop's next turn, together with whatever arrived in the same turn or
while a commit ran), so a lone pair sees every keystroke without waiting; only under real load
are commits up to the commit window apart, so each holds more. A commit costs about as much for
one row as for three, so at thousands of edits per second a 10 ms window halves the server's CPU
per edit, for about 5 ms more latency on average (bench/README.md).
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pycrdt import merge_updates

from sidecar.domain.ids import now_iso

log = logging.getLogger(__name__)
# Under full load, commits are this far apart (each then holds more updates); the service passes
# `notes_commit_window_ms`. See `CommitPacing` for how the wait follows the load.
DEFAULT_COMMIT_WINDOW_SECONDS = 0.010
# Updates a second below which each commit starts at once (a few dozen pairs typing), and from
# which commits are the whole window apart (200 meetings of two people typing 5 edits a second).
COMMIT_AT_ONCE_BELOW_RATE = 200.0
FULL_WINDOW_FROM_RATE = 2000.0
# How far back the rate looks: the time constant of its exponential moving average, in seconds.
RATE_TIME_CONSTANT_SECONDS = 1.0
# While another connection holds SQLite's write lock, retry the commit this often.
LOCKED_RETRY_SECONDS = 0.002
# Copy the write-ahead log back into the database after this many commits, or sooner once this
# many rows were written (each row dirties about one page of the log): SQLite's own automatic
# checkpoint would fsync on the event loop. Fewer, larger checkpoints copy a page rewritten by
# many commits once.
CHECKPOINT_EVERY_COMMITS = 1000
CHECKPOINT_EVERY_ROWS = 4000
# Compactions (each merges a meeting's rows: about a millisecond) one commit runs at most.
MAX_COMPACTIONS_PER_COMMIT = 2

_INSERT = "INSERT INTO note_updates (meeting_id, data, created_by, created_at) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class StoredNotes:
    updates: list[bytes]
    size: int  # bytes stored, snapshot included


class NotesStore(Protocol):
    """What rooms need from storage; a PostgreSQL implementation can replace SQLite's."""

    async def load(self, meeting_id: str) -> StoredNotes: ...

    def submit(
        self, meeting_id: str, update: bytes, author: str | None
    ) -> asyncio.Future[None]: ...

    async def compact(self, meeting_id: str) -> int: ...


class CommitPacing:
    """How long the next commit waits after the last one, from the recent rate of updates.

    The rate is an exponentially weighted moving average of updates per second: each commit
    adds its rows / `time_constant`, and the sum decays by e^(-elapsed / time_constant), so a
    steady r updates a second reads r, and a short burst from one pair (a few hundred updates
    in half a second) moves it little. The wait is

        0                                       below `at_once_below` updates a second,
        max_window * (rate - low) / (full - low) in between,
        max_window                              from `full_from` up.

    At 0 a commit runs on the loop's next turn, with everything that arrived in the same turn
    (or while the previous commit ran): a lone pair is never held back, and a burst is still
    batched. Only real load (thousands of updates a second) pays the whole window, where it
    saves the most CPU per edit.
    """

    __slots__ = ("_clock", "_rate", "_stamp", "at_once_below", "full_from", "max_window", "tau")

    def __init__(
        self,
        max_window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        at_once_below: float = COMMIT_AT_ONCE_BELOW_RATE,
        full_from: float = FULL_WINDOW_FROM_RATE,
        time_constant: float = RATE_TIME_CONSTANT_SECONDS,
    ) -> None:
        self.max_window = max_window
        self.at_once_below = at_once_below
        self.full_from = max(full_from, at_once_below)
        self.tau = time_constant
        self._clock = clock
        self._rate = 0.0
        self._stamp = clock()

    def rate(self) -> float:
        """Updates a second lately (decayed to now)."""
        return self._rate * math.exp(-(self._clock() - self._stamp) / self.tau)

    def record(self, updates: int) -> None:
        """A commit held this many updates."""
        now = self._clock()
        decayed = self._rate * math.exp(-(now - self._stamp) / self.tau)
        self._rate = decayed + updates / self.tau
        self._stamp = now

    def window(self) -> float:
        """Seconds the next commit waits after the last one ended."""
        rate = self.rate()
        if rate < self.at_once_below or self.max_window <= 0:
            return 0.0
        if rate >= self.full_from:
            return self.max_window
        return self.max_window * (rate - self.at_once_below) / (self.full_from - self.at_once_below)


class _Batch:
    """Everything waiting for the next commit: rows and compactions, in submission order."""

    __slots__ = ("compactions", "created_at", "done", "rows")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.created_at = now_iso()  # of every row in the batch (within milliseconds)
        self.rows: list[tuple[str, bytes, str | None, str]] = []
        # (number of rows submitted before it, meeting id, future of the stored size)
        self.compactions: list[tuple[int, str, asyncio.Future[int]]] = []
        self.done: asyncio.Future[None] = loop.create_future()


class SqliteNotesStore:
    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = 5000,
        max_batch: int = 5000,
        commit_window_seconds: float = DEFAULT_COMMIT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = path
        self._clock = clock
        self.pacing = CommitPacing(commit_window_seconds, clock=clock)
        self._busy_timeout = busy_timeout_ms / 1000
        self._max_batch = max_batch
        self._conn: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch: _Batch | None = None
        self._scheduled: asyncio.Handle | None = None
        self._last_commit = 0.0
        self._locked_since: float | None = None
        # Checkpoints run on a thread of their own, with their own connection: they write the
        # database file and fsync it, which must not hold up the event loop.
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notes-wal")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        self._commits_since_checkpoint = 0
        self._rows_since_checkpoint = 0
        self._compactions: deque[tuple[str, asyncio.Future[int]]] = deque()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
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

    def _pending(self) -> _Batch:
        if self._conn is None or self._loop is None:
            raise RuntimeError("notes store is not running")
        batch = self._batch
        if batch is None:
            batch = self._batch = _Batch(self._loop)
        if self._scheduled is None:
            wait = self._last_commit + self.pacing.window() - self._clock()
            if wait > 0:
                self._scheduled = self._loop.call_later(wait, self._flush)
            else:
                self._scheduled = self._loop.call_soon(self._flush)
        return batch

    def submit(self, meeting_id: str, update: bytes, author: str | None) -> asyncio.Future[None]:
        batch = self._pending()
        batch.rows.append((meeting_id, update, author, batch.created_at))
        if len(batch.rows) >= self._max_batch and self._locked_since is None:
            self._flush()
        return batch.done

    async def append(self, meeting_id: str, update: bytes, author: str | None) -> None:
        await self.submit(meeting_id, update, author)

    async def compact(self, meeting_id: str) -> int:
        """Merge a meeting's stored updates into one row, in a coming commit; the size stored.

        It runs at the end of that commit, after the commit's own rows, so it merges everything
        stored so far (a commit window holds several keystrokes of the meeting). A commit takes
        at most `MAX_COMPACTIONS_PER_COMMIT`, so rooms that started together and compact
        together do not hold up the loop at once.
        """
        self._pending()
        assert self._loop is not None
        size: asyncio.Future[int] = self._loop.create_future()
        self._compactions.append((meeting_id, size))
        return await size

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
            if _is_locked(exc) and self._retry_locked(batch, started):
                return
            self._failed(batch, exc)
        except Exception as exc:
            self._failed(batch, exc)
        else:
            self._batch = None
            self._locked_since = None
            self.pacing.record(len(batch.rows))
            if not batch.done.done():
                batch.done.set_result(None)
            self._commits_since_checkpoint += 1
            self._rows_since_checkpoint += len(batch.rows)
            if (
                self._commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS
                or self._rows_since_checkpoint >= CHECKPOINT_EVERY_ROWS
            ):
                self._start_checkpoint()
            for (_, _, future), size in zip(batch.compactions, sizes, strict=True):
                if not future.done():
                    future.set_result(size)
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
        """On the checkpoint thread: copy the log into the database and start it over.

        TRUNCATE, not PASSIVE: under steady writing a passive checkpoint never catches up with
        the last frame, so the log is never reused and grows without end (8.9 GB in two minutes
        of the 1,000-meeting soak). TRUNCATE takes the write lock for the copy (commits meanwhile
        are retried, see `_retry_locked`), so it completes, and empties the log file, so its size
        on disk stays what a few hundred commits write (RESTART would reuse it but keep the
        largest size it ever reached, 1.4 GB after a burst of room loads held it back).

        A PASSIVE pass goes first: it copies and syncs almost everything without stopping the
        commits, so the TRUNCATE that follows holds the write lock only for the last few frames
        (alone, it held it for the whole copy and fsync: tens of milliseconds of commits waiting,
        the p99 latency of a busy server).
        """
        if self._checkpoint_conn is None:
            self._checkpoint_conn = sqlite3.connect(self._path, isolation_level=None)
            self._checkpoint_conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _close_checkpointer(self) -> None:
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None

    def _retry_locked(self, batch: _Batch, now: float) -> bool:
        """Another connection writes: keep the batch (it grows) and try again shortly."""
        if self._locked_since is None:
            self._locked_since = now
        if now - self._locked_since > self._busy_timeout:
            return False
        assert self._loop is not None
        if self._scheduled is None:
            self._scheduled = self._loop.call_later(LOCKED_RETRY_SECONDS, self._flush)
        return True

    def _failed(self, batch: _Batch, exc: BaseException) -> None:
        # The rooms of these updates drop themselves and their clients resync.
        log.error("committing %d note update(s) failed: %r", len(batch.rows), exc)
        self._batch = None
        self._locked_since = None
        if not batch.done.done():
            batch.done.set_exception(exc)
            batch.done.exception()  # retrieved: a room with no one left to relay to may not look
        for _, _, future in batch.compactions:
            if not future.done():
                future.set_exception(exc)

    def _commit(self, batch: _Batch) -> list[int]:
        """One transaction: the rows, with each compaction at its place among them."""
        assert self._conn is not None
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            sizes = []
            done = 0
            for before, meeting_id, _ in batch.compactions:
                if before > done:
                    conn.executemany(_INSERT, batch.rows[done:before])
                    done = before
                sizes.append(self._compact(meeting_id, batch.created_at))
            if done < len(batch.rows):
                conn.executemany(_INSERT, batch.rows[done:] if done else batch.rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return sizes

    def _compact(self, meeting_id: str, now: str) -> int:
        assert self._conn is not None
        conn = self._conn
        rows = conn.execute(
            "SELECT id, data, created_by FROM note_updates WHERE meeting_id = ? ORDER BY id",
            (meeting_id,),
        ).fetchall()
        if len(rows) < 2:
            return sum(len(row[1]) for row in rows)
        try:
            merged = merge_updates(*[bytes(row[1]) for row in rows])
        except Exception:  # nothing changed yet: the rows stay as they are
            log.exception("merging the notes of %s failed; the updates stay", meeting_id)
            return sum(len(row[1]) for row in rows)
        conn.execute(
            "DELETE FROM note_updates WHERE meeting_id = ? AND id <= ?", (meeting_id, rows[-1][0])
        )
        # A merged snapshot has many authors; it keeps the latest writer as its author.
        conn.execute(
            "INSERT INTO note_updates (meeting_id, data, created_by, created_at, is_snapshot)"
            " VALUES (?, ?, ?, ?, 1)",
            (meeting_id, merged, rows[-1][2], now),
        )
        log.debug("compacted %d note updates of %s: %d bytes", len(rows), meeting_id, len(merged))
        return len(merged)

    async def load(self, meeting_id: str) -> StoredNotes:
        """Every stored update of a meeting, in order (a few rows once compacted: read inline)."""
        if self._conn is None:
            raise RuntimeError("notes store is not running")
        rows = self._conn.execute(
            "SELECT data FROM note_updates WHERE meeting_id = ? ORDER BY id", (meeting_id,)
        ).fetchall()
        updates = [bytes(row[0]) for row in rows]
        return StoredNotes(updates, sum(len(u) for u in updates))


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
