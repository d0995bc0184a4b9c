"""The SQLite backend: one file (WAL, foreign keys, busy timeout), access serialised.

One aiosqlite connection serves the whole process. SQLite allows one writer at a time, so an
asyncio lock orders transactions; a task already inside a transaction reuses it, which lets a
repository method call another without deadlocking.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from sidecar.db.database import Database, Params
from sidecar.db.migrations import Migration, apply_migrations
from sidecar.db.platform_migrations import PlatformMigrations, apply_platform_migrations

log = logging.getLogger(__name__)

T = TypeVar("T")
# SQLite's own busy handler sleeps ever longer between looks at a lock (up to 100 ms), so under
# a steady stream of short commits from the live-notes store it can miss every free moment and
# give up. Each attempt waits at most this long inside SQLite; between attempts we poll often.
BUSY_SLICE_MS = 20
BUSY_POLL_SECONDS = 0.002


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


async def _while_busy(attempt: Callable[[], Awaitable[T]], timeout_s: float) -> T:
    """Retry what another writer's lock refused, until `timeout_s` has passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            return await attempt()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or loop.time() >= deadline:
                raise
        await asyncio.sleep(BUSY_POLL_SECONDS)


class SqliteDatabase(Database):
    dialect = "sqlite"
    skip_locked = ""

    def __init__(self, conn: aiosqlite.Connection, path: Path, busy_timeout_ms: int = 5000) -> None:
        self._conn = conn
        self.path = path
        self.busy_timeout_s = busy_timeout_ms / 1000
        self._lock = asyncio.Lock()
        self._in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"in_transaction_{id(self)}", default=False
        )
        self._after_commit: contextvars.ContextVar[list[Callable[[], object]] | None] = (
            contextvars.ContextVar(f"after_commit_{id(self)}", default=None)
        )

    def _waiting_for_commit(self) -> list[Callable[[], object]] | None:
        return self._after_commit.get() if self._in_transaction.get() else None

    def describe(self) -> str:
        return f"{self.path} (SQLite, WAL)"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """All statements inside commit together or not at all."""
        if self._in_transaction.get():
            yield self
            return
        async with self._lock:
            if self._conn.in_transaction:
                # A task cancelled while its BEGIN was running in aiosqlite's thread left the
                # transaction open without reaching the rollback below; it never committed.
                await self._conn.rollback()
            token = self._in_transaction.set(True)
            committed: list[Callable[[], object]] = []
            callbacks = self._after_commit.set(committed)
            try:
                try:
                    await self._while_busy(lambda: _settled(self._conn.execute("BEGIN IMMEDIATE")))
                except asyncio.CancelledError:
                    await _settled(self._conn.rollback())
                    raise
                try:
                    yield self
                except BaseException:
                    await _settled(self._conn.rollback())
                    raise
                await _settled(self._conn.commit())
            finally:
                self._after_commit.reset(callbacks)
                self._in_transaction.reset(token)
        for callback in committed:
            callback()

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._in_transaction.get():
            yield self._conn
        else:
            async with self._lock:
                yield self._conn

    async def _while_busy(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await _while_busy(attempt, self.busy_timeout_s)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with self._statement() as conn:
            if self._in_transaction.get():  # the transaction holds the write lock already
                cursor = await conn.execute(sql, params)
            else:
                cursor = await self._while_busy(lambda: conn.execute(sql, params))
            changed = cursor.rowcount
            await cursor.close()
            return int(changed)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._statement() as conn:
            await conn.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        async with self._statement() as conn, conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
            return dict(row) if row is not None else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        async with self._statement() as conn, conn.execute(sql, params) as cursor:
            return [dict(row) for row in await cursor.fetchall()]

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()


async def _settled(operation: Awaitable[Any]) -> Any:
    """Await an operation that runs in aiosqlite's thread; if we are cancelled meanwhile, let it
    finish first, so no BEGIN, COMMIT or ROLLBACK lands after the lock is released."""
    future = asyncio.ensure_future(operation)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


async def _switch_to_wal(conn: aiosqlite.Connection, timeout_s: float) -> None:
    """Put the file in WAL mode. Switching a new file takes its exclusive lock, and when another
    process opening the same file at the same moment holds it, SQLite answers "database is
    locked" at once rather than calling the busy handler (it would be a deadlock for a reader
    that waits). So this retries itself until the busy timeout has passed."""

    async def switch() -> Any:
        async with conn.execute("PRAGMA journal_mode=WAL") as cursor:
            return await cursor.fetchone()

    row = await _while_busy(switch, timeout_s)
    if row is None or str(row[0]).lower() != "wal":
        raise sqlite3.OperationalError(f"SQLite refused WAL mode for this file (it says {row!r})")


async def open_sqlite(
    path: Path,
    busy_timeout_ms: int = 5000,
    platform_migrations: Mapping[str, PlatformMigrations] | None = None,
    migrations: Sequence[Migration] | None = None,
) -> SqliteDatabase:
    """Open and migrate: the core's migrations, then each platform's (by platform name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit ones.
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        await _switch_to_wal(conn, busy_timeout_ms / 1000)
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten, not just unlinked: an erased mentorship stays erased.
        await conn.execute("PRAGMA secure_delete=ON")
        applied = await apply_migrations(conn, migrations)
        by_platform = await apply_platform_migrations(conn, platform_migrations or {})
        # From here on `Database` retries in short slices itself (see BUSY_SLICE_MS).
        await conn.execute(f"PRAGMA busy_timeout={min(int(busy_timeout_ms), BUSY_SLICE_MS)}")
    except BaseException:
        await conn.close()
        raise
    if applied:
        log.info("database %s migrated to version %d", path, applied[-1])
    for platform, versions in by_platform.items():
        log.info("database %s: %s's tables migrated to version %d", path, platform, versions[-1])
    return SqliteDatabase(conn, path, busy_timeout_ms)
