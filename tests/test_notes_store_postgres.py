"""The PostgreSQL notes store on its own, on a real PostgreSQL (a fresh database of the test's
session cluster, whichever backend the rest of the suite runs on): a commit's future resolves
only once PostgreSQL has committed; what arrives meanwhile waits for the next commit; a
compaction replaces the rows in the same transaction as its batch, so a failed batch leaves them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from pycrdt import Doc, Text

from sidecar.app import create_app
from sidecar.db.notes import notes_store_for
from sidecar.db.notes.postgres import PostgresNotesStore
from sidecar.demo import DemoSeed, seed_demo
from sidecar.keys import DATABASE, NOTE_ROOMS
from sidecar.settings import Settings
from tests.notes_storage import notes_table_locked, postgres_notes_text, snapshot_flags
from tests.test_notes_batching import typed_updates


@pytest.fixture
async def service(
    tmp_path: Path, postgres_url: str
) -> AsyncIterator[tuple[TestServer, DemoSeed, PostgresNotesStore]]:
    """The service on PostgreSQL, and a notes store of the test's own beside the service's."""
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres_url)
    server = TestServer(create_app(settings))
    await server.start_server()
    seed = await seed_demo(server.app)
    store = notes_store_for(server.app[DATABASE], commit_window_seconds=0, busy_timeout_ms=20_000)
    assert isinstance(store, PostgresNotesStore)
    assert isinstance(server.app[NOTE_ROOMS].store, PostgresNotesStore), "the service's too"
    await store.start()
    yield server, seed, store
    await store.stop()
    await server.close()


async def visible_rows(url: str, meeting_id: str) -> int:
    """Rows another connection sees: only what is committed."""
    conn = await asyncpg.connect(url)
    try:
        query = "SELECT COUNT(*) FROM note_updates WHERE meeting_id = $1"
        return int(await conn.fetchval(query, meeting_id))
    finally:
        await conn.close()


async def test_a_commit_resolves_only_once_postgresql_has_committed(
    service: tuple[TestServer, DemoSeed, PostgresNotesStore], postgres_url: str
) -> None:
    server, seed, store = service
    meeting = seed.meeting_id
    _, updates = typed_updates(4)
    before = await visible_rows(postgres_url, meeting)
    async with notes_table_locked(server.app):  # the INSERT waits for the lock
        first = store.submit(meeting, updates[0], None)
        await asyncio.sleep(0.2)  # the commit is on the wire, waiting
        assert not first.done(), "resolved before PostgreSQL committed"
        # Meanwhile more arrives: it waits for the next commit, with its own future.
        later = [store.submit(meeting, update, None) for update in updates[1:]]
        assert all(f is later[0] for f in later) and later[0] is not first
        assert await visible_rows(postgres_url, meeting) == before
        order: list[str] = []
        first.add_done_callback(lambda _: order.append("first"))
        later[0].add_done_callback(lambda _: order.append("later"))
    await asyncio.wait_for(asyncio.gather(first, later[0]), 30)
    assert order == ["first", "later"], "one commit at a time, in order"
    assert await visible_rows(postgres_url, meeting) == before + 4


async def test_compaction_replaces_the_rows_by_one_snapshot(
    service: tuple[TestServer, DemoSeed, PostgresNotesStore], postgres_url: str
) -> None:
    server, seed, store = service
    meeting = seed.meeting_id
    text, updates = typed_updates(20)
    for update in updates[:10]:
        await store.submit(meeting, update, None)  # a commit each
    size = await store.compact(meeting)
    flags = await snapshot_flags(server.app, meeting)
    assert flags == [1] and size > 0, flags
    await asyncio.gather(*[store.submit(meeting, update, None) for update in updates[10:]])
    assert await snapshot_flags(server.app, meeting) == [1] + [0] * 10
    assert await postgres_notes_text(postgres_url, meeting) == text
    doc: Doc[Text] = Doc()
    for update in (await store.load(meeting)).updates:
        doc.apply_update(update)
    assert str(doc.get("notes", type=Text)) == text


async def test_rows_copied_into_the_recent_table_are_filed_when_the_store_starts(
    service: tuple[TestServer, DemoSeed, PostgresNotesStore], postgres_url: str
) -> None:
    """An embedded install's newest rows (SQLite's store commits to note_updates_recent) come
    across with `migrate-data`; the PostgreSQL store files them after the meeting's rows."""
    server, seed, store = service
    meeting = seed.meeting_id
    text, updates = typed_updates(6)
    for update in updates[:3]:
        await store.submit(meeting, update, None)
    db = server.app[DATABASE]
    for update in updates[3:]:
        await db.execute(
            "INSERT INTO note_updates_recent (meeting_id, data, created_at) VALUES (?, ?, ?)",
            (meeting, update, "2026-12-03T12:00:00.000Z"),
        )
    another = notes_store_for(db, commit_window_seconds=0, busy_timeout_ms=20_000)
    await another.start()
    try:
        assert await db.fetch_value("SELECT COUNT(*) FROM note_updates_recent") == 0
        assert (await another.load(meeting)).updates[-6:] == updates, "after, in their order"
        assert (await postgres_notes_text(postgres_url, meeting)).endswith(text)
    finally:
        await another.stop()


async def test_a_failed_batch_leaves_the_rows_its_compaction_would_have_replaced(
    service: tuple[TestServer, DemoSeed, PostgresNotesStore],
) -> None:
    server, seed, store = service
    meeting = seed.meeting_id
    _, updates = typed_updates(6)
    for update in updates[:5]:
        await store.submit(meeting, update, None)
    before = await snapshot_flags(server.app, meeting)
    compaction = asyncio.ensure_future(store.compact(meeting))
    await asyncio.sleep(0)  # queued into the coming commit
    # The same commit stores a row of a meeting that does not exist: the foreign key fails it.
    failing = store.submit("no-such-meeting", updates[5], None)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await asyncio.wait_for(failing, 30)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await asyncio.wait_for(compaction, 30)
    assert await snapshot_flags(server.app, meeting) == before, "the rows are all still there"
    await store.submit(meeting, updates[5], None)  # and the store goes on
    assert await snapshot_flags(server.app, meeting) == [*before, 0]


async def test_a_connection_the_server_ended_is_replaced(
    service: tuple[TestServer, DemoSeed, PostgresNotesStore], postgres_url: str
) -> None:
    _, seed, store = service
    meeting = seed.meeting_id
    _, updates = typed_updates(3)
    await store.submit(meeting, updates[0], None)
    admin = await asyncpg.connect(postgres_url)
    try:
        ended = await admin.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND query LIKE 'INSERT INTO note_updates%'"
        )
    finally:
        await admin.close()
    assert ended >= 1, "the store's connection was found"
    outcome = store.submit(meeting, updates[1], None)
    await asyncio.wait({outcome}, timeout=30)
    # The commit on the ended connection may fail (its rooms would resync); the next one
    # runs on a new connection.
    await asyncio.wait_for(store.submit(meeting, updates[2], None), 30)
    stored = await visible_rows(postgres_url, meeting)
    assert stored >= 3 if outcome.exception() is None else stored >= 2
