"""What the live-notes tests need from the database under a running service, on either backend
(SQLite's file or the PostgreSQL database of MENTOR_SIDECAR_TEST_DATABASE=postgresql).

Tests look at storage from outside the service, as an operator's tool would: through the
service's repositories, or, to hold a lock, with a connection of their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from aiohttp import web
from pycrdt import Doc, Text

from sidecar.keys import DATABASE, REPOS, SETTINGS


def dialect(app: web.Application) -> str:
    return app[DATABASE].dialect


async def snapshot_flags(app: web.Application, meeting_id: str) -> list[int]:
    """Per stored row of a meeting's notes, in order: 1 for a compaction's snapshot, else 0."""
    return [int(row.is_snapshot) for row in await app[REPOS].notes.stored_rows(meeting_id)]


@asynccontextmanager
async def notes_table_locked(app: web.Application) -> AsyncIterator[None]:
    """Another connection holds the write lock the notes' commits need (as a long transaction
    or a backup would), until the block ends; it is rolled back."""
    settings = app[SETTINGS]
    if dialect(app) == "postgresql":
        conn = await asyncpg.connect(settings.database_url)
        try:
            transaction = conn.transaction()
            await transaction.start()
            # EXCLUSIVE: INSERTs wait, reads (a room's load) do not, as under SQLite's lock.
            await conn.execute("LOCK TABLE note_updates IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                await transaction.rollback()
        finally:
            await conn.close()
        return
    other = sqlite3.connect(settings.database_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
    finally:
        other.close()


async def postgres_notes_text(url: str, meeting_id: str) -> str:
    """A meeting's notes as a PostgreSQL database holds them, read on a connection of its own
    (the query a room loads with), for a check made while no service is running."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT data FROM note_updates WHERE meeting_id = $1 ORDER BY id", meeting_id
        )
    finally:
        await conn.close()
    doc: Doc[Text] = Doc()
    for row in rows:
        doc.apply_update(bytes(row["data"]))
    return str(doc.get("notes", type=Text))
