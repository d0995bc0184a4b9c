"""Nothing is shown before it is stored: not through the relay, and not through the answer to a
sync step 1 (a client joining, or a connected one asking again), which is computed from the
room's memory and must wait for the commits of what it contains.

Another writer holds the database's lock (as a long transaction or a backup would; SQLite's
write lock, or on PostgreSQL an EXCLUSIVE lock of the notes' table), so the commit of
the mentor's edit waits; the mentee's sync step 1 must not bring it back meanwhile. If it did, a
kill -9 at that moment would lose an edit someone had seen (found by bench/crash_harness.py's
author with a reproduction of exactly this).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.notes import protocol
from sidecar.settings import Settings
from tests.notes_client import NotesClient
from tests.notes_storage import notes_table_locked

# Every test on both paths, aiohttp's private fast path and the public one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("notes_path")


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[tuple[TestServer, DemoSeed]]:
    server = TestServer(create_app(settings.model_copy(update={"sqlite_busy_timeout_ms": 20000})))
    await server.start_server()
    yield server, await seed_demo(server.app)
    await server.close()


@pytest.mark.parametrize("who_asks", ["connected", "joining"])
async def test_a_sync_answer_waits_for_the_commit_of_what_it_holds(
    service: tuple[TestServer, DemoSeed], who_asks: str
) -> None:
    server, seed = service
    url = f"ws://127.0.0.1:{server.port}/ws/notes/{seed.meeting_id}?token="
    mentor = await NotesClient(url + seed.mentor.token).connect()
    await asyncio.wait_for(mentor.synced.wait(), 30)
    mentee = await NotesClient(url + seed.mentee.token).connect()
    await asyncio.wait_for(mentee.synced.wait(), 30)

    async with notes_table_locked(server.app):
        await mentor.insert(len(str(mentor)), "NOT-YET-STORED")
        await asyncio.sleep(0.3)
        if who_asks == "connected":
            await mentee.send_raw(protocol.sync_step1(mentee.doc.get_state()))
            asker = mentee
        else:
            asker = await NotesClient(url + seed.mentee.token).connect()
        await asyncio.sleep(0.5)
        assert "NOT-YET-STORED" not in str(mentee), "relayed before its commit"
        assert "NOT-YET-STORED" not in str(asker), "sent in a sync answer before its commit"
    # Once stored, everyone gets it.
    await asker.wait_for(lambda: "NOT-YET-STORED" in str(asker), within=10)
    await mentee.wait_for(lambda: "NOT-YET-STORED" in str(mentee), within=10)
    for client in {mentor, mentee, asker}:
        await client.close()
