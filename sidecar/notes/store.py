"""Durable storage of note updates, with group commit and compaction.

`append` returns only once the update is committed, so a caller that broadcasts afterwards never
shows anyone an update that a crash could lose. Appends that arrive while a commit is running
wait for the next one and share it: under load a commit carries many updates, at rest one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

from pycrdt import merge_updates

from sidecar.db import Database
from sidecar.domain.ids import now_iso

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredNotes:
    updates: list[bytes]
    size: int  # bytes stored, snapshot included


class NotesStore(Protocol):
    """What rooms need from storage; a PostgreSQL implementation can replace SQLite's."""

    async def load(self, meeting_id: str) -> StoredNotes: ...

    async def append(self, meeting_id: str, update: bytes, author: str | None) -> None: ...

    async def compact(self, meeting_id: str) -> int: ...


@dataclass
class _Pending:
    meeting_id: str
    update: bytes
    author: str | None
    done: asyncio.Future[None]


class SqliteNotesStore:
    def __init__(self, db: Database, *, max_batch: int = 1000) -> None:
        self._db = db
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._max_batch = max_batch
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="notes-group-commit")

    async def stop(self) -> None:
        """Commit whatever is queued, then stop the writer."""
        if self._writer is None:
            return
        await self._queue.join()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None

    async def append(self, meeting_id: str, update: bytes, author: str | None) -> None:
        if self._writer is None or self._writer.done():
            raise RuntimeError("notes store is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(meeting_id, update, author, done))
        await done

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as exc:  # the room closes the sockets of a failed append
                log.exception("committing %d note update(s) failed", len(batch))
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
            else:
                for item in batch:
                    if not item.done.done():
                        item.done.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Pending]) -> None:
        now = now_iso()
        async with self._db.transaction():
            await self._db.execute_many(
                "INSERT INTO note_updates (meeting_id, data, created_by, created_at)"
                " VALUES (?, ?, ?, ?)",
                [(p.meeting_id, p.update, p.author, now) for p in batch],
            )

    async def load(self, meeting_id: str) -> StoredNotes:
        rows = await self._db.fetch_all(
            "SELECT data FROM note_updates WHERE meeting_id = ? ORDER BY id", (meeting_id,)
        )
        updates = [bytes(row["data"]) for row in rows]
        return StoredNotes(updates, sum(len(u) for u in updates))

    async def compact(self, meeting_id: str) -> int:
        """Merge a meeting's updates into one row; returns the size of the merged row."""
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                "SELECT id, data, created_by FROM note_updates WHERE meeting_id = ? ORDER BY id",
                (meeting_id,),
            )
            if len(rows) < 2:
                return sum(len(row["data"]) for row in rows)
            merged = merge_updates(*[bytes(row["data"]) for row in rows])
            await self._db.execute(
                "DELETE FROM note_updates WHERE meeting_id = ? AND id <= ?",
                (meeting_id, rows[-1]["id"]),
            )
            # A merged snapshot has many authors; it keeps the latest writer as its author.
            await self._db.execute(
                "INSERT INTO note_updates (meeting_id, data, created_by, created_at, is_snapshot)"
                " VALUES (?, ?, ?, ?, 1)",
                (meeting_id, merged, rows[-1]["created_by"], now_iso()),
            )
        log.debug(
            "compacted %d note updates of %s into %d bytes", len(rows), meeting_id, len(merged)
        )
        return len(merged)
