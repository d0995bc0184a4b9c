"""The embedded database: one SQLite file in WAL mode, migrated once, closed cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from sidecar.db import open_database
from sidecar.db.connection import BUSY_SLICE_MS
from sidecar.db.migrations import MIGRATIONS


async def test_opens_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "x.sqlite3")
    try:
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        # Waiting for a lock: 5 s in all, in slices SQLite waits itself, retried by `Database`.
        assert db.busy_timeout_s == 5.0
        assert await db.fetch_value("PRAGMA busy_timeout") == BUSY_SLICE_MS
        assert await db.fetch_value("PRAGMA secure_delete") == 1
        assert await db.fetch_value("SELECT MAX(version) FROM schema_version") == MIGRATIONS[-1].version
    finally:
        await db.close()


async def test_migrations_run_once(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    for _ in range(2):
        db = await open_database(path)
        await db.close()
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert versions == [migration.version for migration in MIGRATIONS]


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "x.sqlite3")
    try:
        try:
            async with db.transaction():
                await db.execute(
                    "INSERT INTO people VALUES ('p', 'n', 'e', 'UTC', 'en', '', 'now', 'now')"
                )
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert await db.fetch_value("SELECT COUNT(*) FROM people") == 0
    finally:
        await db.close()


def test_migration_numbers_are_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


async def test_a_task_cancelled_mid_transaction_leaves_the_database_usable(tmp_path: Path) -> None:
    import asyncio

    db = await open_database(tmp_path / "x.sqlite3")
    try:
        for delay in (0, 0.0001, 0.001, 0.005):
            started = asyncio.Event()

            async def write(started: asyncio.Event = started) -> None:
                async with db.transaction():
                    started.set()
                    await db.execute(
                        "INSERT INTO people VALUES ('p', 'n', 'e', 'UTC', 'en', '', 'now', 'now')"
                    )
                    await asyncio.sleep(1)

            task = asyncio.create_task(write())
            await asyncio.sleep(delay)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            async with db.transaction():  # must not fail with "transaction within a transaction"
                assert await db.fetch_value("SELECT COUNT(*) FROM people") == 0
    finally:
        await db.close()


async def test_a_transaction_gets_the_lock_between_another_writers_short_commits(
    tmp_path: Path,
) -> None:
    """The live-notes store commits every millisecond or so on its own connection; SQLite's busy
    handler alone (which looks at the lock up to 100 ms apart) could miss every free moment and
    fail with "database is locked". Another connection here holds the write lock 90% of the time,
    in 10 ms bursts, for 3 s; every transaction of ours must still get through."""
    import sqlite3
    import threading
    import time

    path = tmp_path / "db.sqlite3"
    db = await open_database(path, busy_timeout_ms=3000)
    stop = threading.Event()

    def hog() -> None:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        while not stop.is_set():
            other.execute("BEGIN IMMEDIATE")
            time.sleep(0.009)
            other.execute("COMMIT")
            time.sleep(0.001)
        other.close()

    hogging = threading.Thread(target=hog)
    hogging.start()
    try:
        for n in range(30):
            async with db.transaction():
                await db.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
                await db.execute("INSERT INTO t VALUES (?)", (n,))
            await db.execute("INSERT INTO t VALUES (?)", (-n,))  # outside a transaction too
    finally:
        stop.set()
        await asyncio.to_thread(hogging.join)
    assert await db.fetch_value("SELECT COUNT(*) FROM t") == 60
    await db.close()
