"""The PostgreSQL backend, through asyncpg: a pool of connections.

A transaction holds one connection of the pool for its whole length, in a context variable, so
the statements and the nested transactions inside it (in the same task, or in tasks it starts)
run on that connection; statements outside a transaction take any connection of the pool.
SQL arrives with SQLite's placeholders and is rewritten once per text (sidecar/db/sql_params.py).
PostgreSQL runs READ COMMITTED: a claim locks what it reads (`skip_locked`) or is a
conditional UPDATE.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from sidecar.db.database import Database, Params
from sidecar.db.migrations import Migration, apply_postgres_migrations
from sidecar.db.platform_migrations import (
    PlatformMigrations,
    apply_postgres_platform_migrations,
)
from sidecar.db.sql_params import to_postgres

log = logging.getLogger(__name__)

POOL_SIZE = 10
# Prepared statements kept per connection (asyncpg's default, 100, is fewer than the distinct
# statements the repositories send, so they would be prepared again and again).
STATEMENT_CACHE_SIZE = 1000
# Held while migrating, so two processes starting together do not both migrate.
MIGRATION_LOCK = 0x5EDCA12
CLOSE_TIMEOUT_SECONDS = 10.0
_CHANGES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})


@dataclass(eq=False)
class _Held:
    """The connection of an open transaction; `lock` orders the statements of tasks sharing it."""

    conn: asyncpg.Connection
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: bool = True
    after_commit: list[Callable[[], object]] = field(default_factory=list)


def rowcount(status: str) -> int:
    """'UPDATE 3' -> 3, 'INSERT 0 1' -> 1; -1 for statements that change no rows."""
    words = status.split()
    if words and words[0] in _CHANGES and words[-1].isdigit():
        return int(words[-1])
    return -1


def redacted(url: str) -> str:
    """The URL without its password, for the log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class PostgresDatabase(Database):
    dialect = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self._held: contextvars.ContextVar[_Held | None] = contextvars.ContextVar(
            f"postgres_transaction_{id(self)}", default=None
        )

    def describe(self) -> str:
        return f"{redacted(self.url)} (PostgreSQL)"

    def _waiting_for_commit(self) -> list[Callable[[], object]] | None:
        held = self._open_transaction()
        return None if held is None else held.after_commit

    def _open_transaction(self) -> _Held | None:
        held = self._held.get()
        return held if held is not None and held.open else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """All statements inside commit together or not at all."""
        if self._open_transaction() is not None:
            yield self
            return
        # If we are cancelled anywhere here, the pool's release rolls back what is still open.
        async with self._pool.acquire() as conn:
            held = _Held(conn)
            token = self._held.set(held)
            try:
                async with conn.transaction():
                    try:
                        yield self
                    finally:
                        # No statement joins any more, and one a task started here is still
                        # running finishes before the COMMIT or ROLLBACK.
                        held.open = False
                        async with held.lock:
                            pass
            finally:
                self._held.reset(token)
        for callback in held.after_commit:  # reached only when the COMMIT went through
            callback()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        held = self._open_transaction()
        if held is not None:
            async with held.lock:
                if held.open:  # it may have ended while this statement waited its turn
                    yield held.conn
                    return
        async with self._pool.acquire() as conn:
            yield conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        rewritten = to_postgres(sql)
        arguments = rewritten.arguments(params)
        async with self._connection() as conn:
            status = await conn.execute(rewritten.sql, *arguments)
        return rowcount(status)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        rewritten = to_postgres(sql)
        arguments = rewritten.each(rows)
        if not arguments:
            return
        async with self._connection() as conn:
            await conn.executemany(rewritten.sql, arguments)

    async def fetch_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        rewritten = to_postgres(sql)
        arguments = rewritten.arguments(params)
        async with self._connection() as conn:
            row = await conn.fetchrow(rewritten.sql, *arguments)
        return None if row is None else dict(row.items())

    async def fetch_all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        rewritten = to_postgres(sql)
        arguments = rewritten.arguments(params)
        async with self._connection() as conn:
            rows = await conn.fetch(rewritten.sql, *arguments)
        return [dict(row.items()) for row in rows]

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning(
                "database connections still busy after %.0f s: closed", CLOSE_TIMEOUT_SECONDS
            )
            self._pool.terminate()


class _PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection given back without asyncpg's reset query (advisory unlocks, RESET ALL,
    UNLISTEN: a round trip per statement outside a transaction, 2-4x its cost here): the
    service sets no session state on them. An open transaction is still rolled back."""

    def get_reset_query(self) -> str:
        return ""


async def open_postgres(
    url: str,
    platform_migrations: Mapping[str, PlatformMigrations] | None = None,
    migrations: Sequence[Migration] | None = None,
) -> PostgresDatabase:
    """Migrate (the core's migrations, then each platform's), then connect a pool."""
    # On a connection of its own, closed after: its session lock goes with it, and no pooled
    # connection holds plans prepared before the schema changed.
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        applied = await apply_postgres_migrations(conn, migrations)
        by_platform = await apply_postgres_platform_migrations(conn, platform_migrations or {})
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        connection_class=_PooledConnection,
        statement_cache_size=STATEMENT_CACHE_SIZE,
    )
    where = redacted(url)
    if applied:
        log.info("database %s migrated to version %d", where, applied[-1])
    for platform, versions in by_platform.items():
        log.info("database %s: %s's tables migrated to version %d", where, platform, versions[-1])
    return PostgresDatabase(pool, url)
