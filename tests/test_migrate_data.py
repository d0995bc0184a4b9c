"""`mentor-sidecar migrate-data --to postgresql://...` moves an embedded install to PostgreSQL:
data built on SQLite through the API, copied by the command, and the service started on
PostgreSQL gives every person the same export archive as before (the real PostgreSQL cluster of
tests/postgres_cluster.py; skipped where there is none)."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar import cli, reminders, step_reminders
from sidecar.app import create_app
from sidecar.db import open_database
from sidecar.keys import DATABASE, OUTBOX, REPOS, SETTINGS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.notes_client import NotesClient
from tests.platform_settings import TESTED, TESTED_NAMES
from tests.test_privacy import KEPT, SECRETS, fill, zoom_event
from tests.waiting import outbox_empty

Archive = dict[str, Any]


def sqlite_settings(data_dir: Path) -> Settings:
    """The embedded install, on whichever backend the suite runs: its SQLite file named."""
    sqlite = f"sqlite:///{data_dir / 'sidecar.sqlite3'}"
    return Settings(data_dir=data_dir, database_url=sqlite, platforms=TESTED)


def on_postgres_settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "pg-data", database_url=url, platforms=TESTED)


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(sqlite_settings(tmp_path / "data")))
    await server.start_server()
    yield server
    await server.close()


async def export_of(server: TestServer, pair: Pair, who: str) -> Archive:
    """The archive's files: JSON parsed, the rest as bytes; without what the export itself
    changes (its date in README.txt, the requesting token's last use)."""
    async with (
        ClientSession() as http,
        http.get(server.make_url("/api/v1/me/export"), headers=pair.auth(who)) as response,
    ):
        assert response.status == 200, await response.text()
        data = await response.read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    files: Archive = {}
    for name in archive.namelist():
        content = archive.read(name)
        if name == "README.txt":
            files[name] = [line for line in content.decode().splitlines() if "exported" not in line]
        elif name.endswith(".json"):
            rows = json.loads(content)
            if name == "person/access_tokens.json":
                rows = [{k: v for k, v in row.items() if k != "last_used_at"} for row in rows]
            files[name] = rows
        else:
            files[name] = content
    return files


async def build(server: TestServer) -> list[Pair]:
    """Two pairs with a record of every kind, one meeting ended (summary, search entry,
    emails), live notes, and the platforms' own rows where they are tested."""
    app = server.app
    first = await make_pair(app, "Migrated")
    second = await make_pair(app, "Also")
    held = await add_meeting(app, first, datetime.now(UTC) - timedelta(minutes=30))
    await fill(server, first, SECRETS, held.id)
    await fill(server, second, dict.fromkeys(SECRETS, KEPT))
    if "zoom" in TESTED_NAMES:
        from zoom_app.webhook import process_pending  # only where Zoom is tested

        await zoom_event(app, first, "85746065432", "wombatzoomtopic")
        await process_pending(app)  # as its worker would, before the move
    assert await end_meeting(app, held.id, source="panel", actor=None)
    # The background work settles first (reminders due, email sent), so the service started on
    # PostgreSQL finds nothing left to do that would change an export.
    await reminders.send_due(app[REPOS], app[OUTBOX], app[SETTINGS])
    await step_reminders.send_due(app[REPOS], app[OUTBOX], app[SETTINGS])
    await outbox_empty(app[DATABASE])
    return [first, second]


def run_cli(*args: str) -> int:
    return cli.main(["migrate-data", *args])


async def test_migrating_to_postgresql_keeps_every_export_the_same(
    embedded: TestServer, tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = await build(embedded)
    before = {
        (pair.mentorship_id, who): await export_of(embedded, pair, who)
        for pair in pairs
        for who in ("mentor", "mentee")
    }
    await embedded.close()  # the service is stopped while its data moves
    data_dir = str(tmp_path / "data")

    # Without --yes: the counts per table, in the order of the copy, and nothing copied.
    assert await asyncio.to_thread(run_cli, "--to", postgres_url, "--data-dir", data_dir) == 0
    dry = capsys.readouterr().out
    assert "Dry run: nothing was copied" in dry
    lines = {line.split()[0]: line.split()[1] for line in dry.splitlines() if line[:2] == "  "}
    assert lines["people"] == "4" and lines["mentorships"] == "2"
    order = [line.split()[0] for line in dry.splitlines() if line[:2] == "  "]
    assert order.index("people") < order.index("mentorships") < order.index("meetings")
    assert order.index("meetings") < order.index("note_updates")
    assert order.index("meetings") < order.index("note_updates_recent")  # SQLite's newest rows
    target = await open_database(postgres_url)
    try:
        assert await target.fetch_value("SELECT COUNT(*) FROM people") == 0
    finally:
        await target.close()

    assert (
        await asyncio.to_thread(run_cli, "--to", postgres_url, "--data-dir", data_dir, "--yes") == 0
    )
    assert "in one transaction" in capsys.readouterr().out

    on_postgres = TestServer(create_app(on_postgres_settings(tmp_path, postgres_url)))
    await on_postgres.start_server()
    try:
        for (mentorship_id, who), archive in before.items():
            pair = next(p for p in pairs if p.mentorship_id == mentorship_id)
            after = await export_of(on_postgres, pair, who)
            assert sorted(after) == sorted(archive), who
            for name, content in archive.items():
                assert after[name] == content, f"{who}'s {name} differs after the move"
        # Identity sequences go on after the largest copied id, in every table that has one.
        db = on_postgres.app[DATABASE]
        identities = await db.fetch_all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        assert {row["table_name"] for row in identities} >= {"outbox", "note_updates"}
        for row in identities:
            table, column = row["table_name"], row["column_name"]
            highest = await db.fetch_value(f"SELECT MAX({column}) FROM {table}")
            last = await db.fetch_value(
                "SELECT last_value FROM pg_sequences WHERE schemaname = current_schema()"
                " AND sequencename = ?",
                (f"{table}_{column}_seq",),
            )
            assert highest is None or (last or 0) >= highest, (
                f"{table}.{column}: {last} < {highest}"
            )
        # And a note update written now is stored (and read back after a restart).
        pair = pairs[1]
        notes_url = (
            f"ws://127.0.0.1:{on_postgres.port}/ws/notes/{pair.meeting_id}"
            f"?token={pair.mentee_token}"
        )
        notes = await NotesClient(notes_url).connect()
        await asyncio.wait_for(notes.synced.wait(), 30)
        await notes.insert(0, "okapimoved after the move\n")
        await notes.close()
    finally:
        await on_postgres.close()  # the room's pending updates are committed on the way out
    again = TestServer(create_app(on_postgres_settings(tmp_path, postgres_url)))
    await again.start_server()
    try:
        archive = await export_of(again, pairs[1], "mentee")
        notes_files = [name for name in archive if "/notes/" in name]
        assert any(b"okapimoved" in archive[name] for name in notes_files)
    finally:
        await again.close()

    # A second run finds the target holding rows, and refuses.
    assert (
        await asyncio.to_thread(run_cli, "--to", postgres_url, "--data-dir", data_dir, "--yes") == 1
    )
    assert "not empty" in capsys.readouterr().out


async def test_tables_of_a_platform_not_enabled_are_listed_and_left_behind(
    tmp_path: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not TESTED_NAMES:
        pytest.skip("this run has no platform, so the SQLite file has no platform's table")
    server = TestServer(create_app(sqlite_settings(tmp_path / "data")))
    await server.start_server()
    await make_pair(server.app, "Left")
    await server.close()
    monkeypatch.setenv("MENTOR_SIDECAR_PLATFORMS", "")  # the platforms are switched off here
    args = ("--to", postgres_url, "--data-dir", str(tmp_path / "data"), "--yes")
    assert await asyncio.to_thread(run_cli, *args) == 0
    left = capsys.readouterr().out.split("Not copied")[1]
    platform_tables = {"zoom": "zoom_meeting_links", "jitsi": "jitsi_rooms"}
    for name in TESTED_NAMES:
        assert platform_tables[name] in left
    target = await open_database(postgres_url)
    try:
        assert await target.fetch_value("SELECT COUNT(*) FROM people") == 2
    finally:
        await target.close()


def test_a_target_that_is_not_postgresql_or_a_missing_source_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("--to", "sqlite:///elsewhere.sqlite3", "--data-dir", str(tmp_path)) == 1
    assert "postgresql://" in capsys.readouterr().out
    unused = "postgresql://nobody@127.0.0.1:9/none"
    assert run_cli("--to", unused, "--data-dir", str(tmp_path / "nothing-here")) == 1
    assert "no SQLite database" in capsys.readouterr().out
    assert not (tmp_path / "nothing-here").exists()  # nothing was created on the way
    with pytest.raises(SystemExit):
        run_cli("--data-dir", str(tmp_path))  # --to is required
