"""Each platform's own numbered migrations, recorded per platform in `platform_schema_version`.

A platform's tables are its own: a service without Zoom has no Zoom tables. The core's list
(sidecar/db/migrations.py) keeps its numbers; a platform numbers its list from 1, and its
versions are recorded under its name, so two platforms never collide.

A platform's `migrations` is a sequence of `Migration` (its SQLite and its PostgreSQL text). A
plain `(version, sql)` pair is still accepted, as SQLite text only: such a platform runs on
SQLite, and opening a PostgreSQL database with it enabled fails, naming the platform.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import aiosqlite

from sidecar.db.migrations import Migration, has_statements
from sidecar.domain.ids import now_iso

if TYPE_CHECKING:
    import asyncpg

PlatformMigrations = Sequence[Migration | tuple[int, str]]

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS platform_schema_version (
    platform TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (platform, version)
)
"""


def _steps(platform: str, steps: PlatformMigrations, postgres: bool) -> list[Migration]:
    found = []
    for step in steps:
        if isinstance(step, Migration):
            found.append(step)
        elif postgres:
            raise RuntimeError(
                f"platform {platform!r} has SQLite-only migrations (version {step[0]}):"
                " it cannot run on PostgreSQL"
            )
        else:
            found.append(Migration(step[0], sqlite=step[1], postgres=""))
    return sorted(found, key=lambda migration: migration.version)


async def apply_platform_migrations(
    conn: aiosqlite.Connection, migrations: Mapping[str, PlatformMigrations]
) -> dict[str, list[int]]:
    """SQLite: apply each platform's migrations newer than its recorded version (after the
    core's)."""
    await conn.execute(BOOKKEEPING)
    applied: dict[str, list[int]] = {}
    for platform, steps in migrations.items():
        async with conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM platform_schema_version WHERE platform = ?",
            (platform,),
        ) as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for migration in _steps(platform, steps, postgres=False):
            if migration.version <= current:
                continue
            # One transaction per migration, recorded in it: it lands whole or not at all. Its
            # row goes in first, so a process that applied it meanwhile makes this one skip it.
            name = platform.replace("'", "''")
            try:
                await conn.executescript(
                    "BEGIN IMMEDIATE;\nINSERT INTO platform_schema_version VALUES"
                    f" ('{name}', {int(migration.version)}, '{now_iso()}');\n{migration.sqlite}\n"
                )
            except sqlite3.IntegrityError as exc:
                if "platform_schema_version" not in str(exc):
                    raise
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                continue
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
            applied.setdefault(platform, []).append(migration.version)
    return applied


async def apply_postgres_platform_migrations(
    conn: asyncpg.Connection, migrations: Mapping[str, PlatformMigrations]
) -> dict[str, list[int]]:
    """PostgreSQL: the same, on a connection the caller holds the migration lock on."""
    await conn.execute(BOOKKEEPING)
    applied: dict[str, list[int]] = {}
    for platform, steps in migrations.items():
        current = int(
            await conn.fetchval(
                "SELECT COALESCE(MAX(version), 0) FROM platform_schema_version WHERE platform = $1",
                platform,
            )
        )
        for migration in _steps(platform, steps, postgres=True):
            if migration.version <= current:
                continue
            async with conn.transaction():
                if has_statements(migration.postgres):
                    await conn.execute(migration.postgres)
                await conn.execute(
                    "INSERT INTO platform_schema_version VALUES ($1, $2, $3)",
                    platform,
                    migration.version,
                    now_iso(),
                )
            applied.setdefault(platform, []).append(migration.version)
    return applied
