"""Opening the database MENTOR_SIDECAR_DATABASE_URL names: SQLite (the default, a file in the
data folder) or PostgreSQL. Both are migrated on opening and answer the same `Database`
interface (sidecar/db/database.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sidecar.db.database import Database, Dialect, Params
from sidecar.db.migrations import Migration
from sidecar.db.platform_migrations import PlatformMigrations
from sidecar.db.sqlite import BUSY_SLICE_MS, SqliteDatabase, open_sqlite
from sidecar.settings import Settings, SettingsError, database_dialect, sqlite_path

__all__ = [
    "BUSY_SLICE_MS",
    "Database",
    "Dialect",
    "Params",
    "SqliteDatabase",
    "open_database",
]

DEFAULT_BUSY_TIMEOUT_MS = 5000


async def open_database(
    target: Settings | str | Path,
    busy_timeout_ms: int | None = None,
    platform_migrations: Mapping[str, PlatformMigrations] | None = None,
    *,
    migrations: Sequence[Migration] | None = None,
) -> Database:
    """Open and migrate the database of `target`: the settings (database_url, else the SQLite
    file in data_dir), a database URL (`sqlite:///PATH`, `postgresql://...`) or a SQLite file's
    path. `platform_migrations` are each enabled platform's, by name; `migrations` replaces the
    core's list (tests of the migration runner)."""
    if isinstance(target, Settings):
        url = target.database_url or target.database_path
        if busy_timeout_ms is None:
            busy_timeout_ms = target.sqlite_busy_timeout_ms
    else:
        url = target
    busy = DEFAULT_BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
    if isinstance(url, Path):
        return await open_sqlite(url, busy, platform_migrations, migrations)
    try:
        dialect = database_dialect(url)
        path = sqlite_path(url) if dialect == "sqlite" else None
    except ValueError as exc:
        raise SettingsError(f"MENTOR_SIDECAR_DATABASE_URL: {exc}") from None
    if path is not None:
        return await open_sqlite(path, busy, platform_migrations, migrations)
    from sidecar.db.postgres import open_postgres  # asyncpg is imported only when it is used

    return await open_postgres(url, platform_migrations, migrations)
