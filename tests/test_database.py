"""The embedded database: one SQLite file in WAL mode, migrated once, closed cleanly."""

from __future__ import annotations

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
