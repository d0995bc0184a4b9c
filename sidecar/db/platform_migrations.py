"""Each platform's own numbered migrations, recorded per platform in `platform_schema_version`.

A platform's tables are its own: a service without Zoom has no Zoom tables. The core's list
(sidecar/db/migrations.py) keeps its numbers; a platform numbers its list from 1, and its
versions are recorded under its name, so two platforms never collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aiosqlite

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS platform_schema_version (
    platform TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (platform, version)
)
"""


async def apply_platform_migrations(
    conn: aiosqlite.Connection, migrations: Mapping[str, Sequence[tuple[int, str]]]
) -> dict[str, list[int]]:
    """Apply each platform's migrations newer than its recorded version (after the core's)."""
    await conn.execute(BOOKKEEPING)
    applied: dict[str, list[int]] = {}
    for platform, steps in migrations.items():
        async with conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM platform_schema_version WHERE platform = ?",
            (platform,),
        ) as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for version, sql in sorted(steps):
            if version <= current:
                continue
            # One transaction per migration, recorded in it: it lands whole or not at all.
            try:
                await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n")
                await conn.execute(
                    "INSERT INTO platform_schema_version VALUES"
                    " (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (platform, version),
                )
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
            applied.setdefault(platform, []).append(version)
    return applied
