"""The live notes' own storage: a store per backend, each committing on a connection of its own
with group commit (SQLite's on the event loop's thread, PostgreSQL's as a task per commit).

`notes_store_for` picks the store of the service's database; rooms see only the `NotesStore`
protocol (sidecar/notes/store.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import asyncpg

from sidecar.db.database import Database
from sidecar.db.notes.postgres import PostgresNotesStore
from sidecar.db.notes.sqlite import SqliteNotesStore
from sidecar.db.postgres import PostgresDatabase
from sidecar.db.sqlite import SqliteDatabase
from sidecar.notes.store import RunningNotesStore


def notes_store_for(
    db: Database,
    *,
    commit_window_seconds: float,
    busy_timeout_ms: int,
    clock: Callable[[], float] = time.monotonic,
) -> RunningNotesStore:
    """The notes store for `db`: on its file for SQLite, on a connection of its own beside the
    pool for PostgreSQL. `busy_timeout_ms`: how long a commit may wait for a lock before it
    fails (and its rooms resync)."""
    if isinstance(db, SqliteDatabase):
        return SqliteNotesStore(
            db.path,
            busy_timeout_ms=busy_timeout_ms,
            commit_window_seconds=commit_window_seconds,
            clock=clock,
        )
    if isinstance(db, PostgresDatabase):
        url = db.url

        async def connect() -> Any:
            return await asyncpg.connect(url)

        return PostgresNotesStore(
            db,
            connect,
            lock_timeout_ms=busy_timeout_ms,
            commit_window_seconds=commit_window_seconds,
            clock=clock,
        )
    raise ValueError(f"no notes store for a {db.dialect} database")
