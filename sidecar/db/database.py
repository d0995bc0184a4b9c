"""The database interface every repository uses, whichever backend holds the data.

Two backends implement it: SQLite (sidecar/db/sqlite.py, the default: one file in the data
folder) and PostgreSQL (sidecar/db/postgres.py, through asyncpg). SQL is written once with
SQLite's placeholders (`?` or `:name`); where the dialects differ, a repository branches on
`dialect`.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Literal

import asyncpg

Params = Sequence[Any] | Mapping[str, Any]
Dialect = Literal["sqlite", "postgresql"]

# What a failed statement raises, on either backend (OSError: a PostgreSQL connection that
# went away), for callers that lose a detail rather than fail. On PostgreSQL a statement that
# fails inside a transaction aborts the whole transaction (SQLite's goes on): catch it outside
# the transaction, or avoid the failure (ON CONFLICT, a conditional UPDATE).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
# A UNIQUE, FOREIGN KEY, CHECK or NOT NULL constraint refused the statement.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


class Database(ABC):
    # What repositories branch on where the dialects differ (where SQL cannot be written once).
    dialect: ClassVar[Dialect]
    # Appended to a claim's SELECT: " FOR UPDATE SKIP LOCKED" on PostgreSQL; "" on SQLite,
    # whose BEGIN IMMEDIATE already holds the write lock.
    skip_locked: ClassVar[str]

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Database]:
        """All statements inside commit together or not at all; a transaction opened inside
        another (the same task, or tasks it started) joins it."""

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call `callback` once what this task wrote is committed: when the transaction it is in
        commits (never after a rollback), or now, outside one. For waking a worker that reads on
        another connection: on PostgreSQL it cannot see a row before its COMMIT."""
        waiting = self._waiting_for_commit()
        if waiting is None:
            callback()
        else:
            waiting.append(callback)

    @abstractmethod
    def _waiting_for_commit(self) -> list[Callable[[], object]] | None:
        """The callbacks of the transaction this task is in, or None outside one."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed (-1 for other statements)."""

    @abstractmethod
    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row."""

    @abstractmethod
    async def fetch_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        """The first row, by column name, or None."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Every row, by column name."""

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; the database is not used after."""

    @abstractmethod
    def describe(self) -> str:
        """Where the data is, for the log (never a password)."""
