"""kill -9 the service while two people type: no edit that anyone saw broadcast may be lost.

The service runs as a real process on a real SQLite file (or, with
MENTOR_SIDECAR_TEST_DATABASE=postgresql, on the test's PostgreSQL database, which the kill does not
touch: what the service committed is there when it restarts). The mentee's client only ever receives
what the server relayed, so everything in its document at the moment of the kill had been
broadcast; after a restart, a fresh client (holding nothing) must find all of it on the server.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
from pathlib import Path

import pytest

from sidecar.settings import Settings
from tests.notes_client import NotesClient
from tests.notes_storage import postgres_notes_text
from tests.test_cli import free_port, start_demo

TRIALS = int(os.environ.get("CRASH_TRIALS", "3"))
UNLIMITED = {"MENTOR_SIDECAR_WEBSOCKET_MESSAGES_PER_SECOND": "0"}


async def typing(client: NotesClient, prefix: str, stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        try:
            await client.insert(len(str(client)), f"{prefix}{n};")
        except Exception:
            return  # the server is gone
        n += 1
        await asyncio.sleep(0.002)


@pytest.mark.parametrize("trial", range(TRIALS))
async def test_kill_minus_nine_loses_no_broadcast_edit(
    tmp_path: Path, database_env: str | None, trial: int
) -> None:
    """`database_env`: on PostgreSQL, the database both processes use (in the environment)."""
    port = free_port()
    # Typing every 2 ms is faster than the per-socket message limit allows: off for this test,
    # which is about durability under a fast writer (tests/test_limits.py tests the limit).
    process, seed = start_demo(tmp_path, port, env=UNLIMITED)
    url = f"ws://127.0.0.1:{port}/ws/notes/{seed['meeting_id']}?token="
    try:
        mentor = await NotesClient(url + seed["mentor"]["token"]).connect()
        mentee = await NotesClient(url + seed["mentee"]["token"]).connect()
        for client in (mentor, mentee):
            await asyncio.wait_for(client.synced.wait(), 30)
        stop = asyncio.Event()
        writers = [
            asyncio.create_task(typing(mentor, "R", stop)),
            asyncio.create_task(typing(mentee, "E", stop)),
        ]
        await asyncio.sleep(random.Random(trial).uniform(0.3, 1.2))
        process.send_signal(signal.SIGKILL)
        seen_by_mentee = set(re.findall(r"R\d+;", str(mentee)))
        seen_by_mentor = set(re.findall(r"E\d+;", str(mentor)))
        process.wait(10)
        stop.set()
        await asyncio.gather(*writers)
        assert len(seen_by_mentee) > 10 and len(seen_by_mentor) > 10, "typing did not get going"
        assert mentor.close_code in (None, 1006) and mentee.close_code in (None, 1006), (
            "a socket was closed by the server before the kill"
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    seen = seen_by_mentee | seen_by_mentor
    if database_env is not None:  # what PostgreSQL holds, asked before anything restarts
        assert not Settings(data_dir=tmp_path).database_path.exists(), "it ran on SQLite"
        held = set(
            re.findall(r"[RE]\d+;", await postgres_notes_text(database_env, seed["meeting_id"]))
        )
        assert not seen - held, f"{len(seen - held)} broadcast edits not in PostgreSQL"

    again, _ = start_demo(tmp_path, port, env=UNLIMITED)
    try:
        fresh = await NotesClient(url + seed["mentee"]["token"]).connect()
        await asyncio.wait_for(fresh.synced.wait(), 30)
        stored = set(re.findall(r"[RE]\d+;", str(fresh)))
        lost = seen - stored
        assert not lost, f"{len(lost)} broadcast edits lost: {sorted(lost)[:10]}"
        await fresh.close()
        for client in (mentor, mentee):
            await client.close()
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(15)
