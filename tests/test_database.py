"""The embedded database: one SQLite file in WAL mode, migrated once, closed cleanly."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sidecar.db import open_database
from sidecar.db.migrations import MIGRATIONS


async def test_opens_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "x.sqlite3")
    try:
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        assert await db.fetch_value("PRAGMA busy_timeout") == 5000
        assert await db.fetch_value("SELECT MAX(version) FROM schema_version") == MIGRATIONS[-1][0]
    finally:
        await db.close()


async def test_migrations_run_once(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    for _ in range(2):
        db = await open_database(path)
        await db.close()
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert versions == [version for version, _ in MIGRATIONS]


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
    assert [v for v, _ in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


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
