"""A person takes all their data away in one archive, and erasing a mentorship leaves nothing of
it in the database: on SQLite in the files (scanned byte by byte, log included); on PostgreSQL in
any row version of any table, dead or alive, nor in the search index's pages (read with
pageinspect; what PostgreSQL keeps beyond that is said in the README)."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer

from sidecar import erasure, privacy
from sidecar.app import create_app
from sidecar.db import Database
from sidecar.db.privacy_tables import MENTORSHIP_TABLES
from sidecar.keys import DATABASE, SETTINGS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.notes_client import NotesClient
from tests.platform_settings import TESTED_NAMES

# Words that occur nowhere else; every kind of record of the erased pair carries one.
SECRETS = {
    "title": "quokkatitle",
    "agreement": "zanzibarcadence",
    "goal": "pangolingoal",
    "progress": "narwhalprogress",
    "agenda": "axolotlagenda",
    "action": "okapiaction",
    "agreed": "tapiragreed",
    "notes": "capybaranotes",
    "meeting": "dugongmeeting",
}
ZOOM_TOPIC = "wombatzoomtopic"  # in a Zoom event notification about the erased pair's meeting
KEPT = "marmotkept"  # the other pair's word, which must survive (proves the scan can see)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(Settings(data_dir=tmp_path / "data")))
    await server.start_server()
    yield server
    await server.close()


async def fill(
    server: TestServer, pair: Pair, word_of: dict[str, str], meeting_id: str | None = None
) -> None:
    """Write each word into the pair's records through the API and the live notes."""
    meeting_id = meeting_id or pair.meeting_id
    async with ClientSession(str(server.make_url("/"))) as http:
        auth = pair.auth("mentee")

        async def ok(method: str, path: str, body: object) -> dict[str, object]:
            response = await http.request(method, f"/api/v1{path}", json=body, headers=auth)
            assert response.status < 300, await response.text()
            return await response.json() if response.status != 204 else {}

        await ok("PATCH", f"/mentorships/{pair.mentorship_id}", {"title": word_of["title"]})
        await ok(
            "PATCH",
            f"/mentorships/{pair.mentorship_id}/agreement",
            {"meeting_cadence": f"weekly {word_of['agreement']}"},
        )
        goal = await ok(
            "POST", f"/mentorships/{pair.mentorship_id}/goals", {"title": word_of["goal"]}
        )
        await ok(
            "POST",
            f"/goals/{goal['id']}/progress",
            {"note": word_of["progress"], "status": "on_track"},
        )
        await ok("PATCH", f"/meetings/{meeting_id}", {"title": word_of["meeting"]})
        await ok(
            "POST",
            f"/meetings/{meeting_id}/agenda",
            {"section": "topics", "text": word_of["agenda"]},
        )
        await ok(
            "POST",
            f"/meetings/{meeting_id}/agreements",
            {"text": word_of["agreed"]},
        )
        await ok(
            "POST",
            f"/mentorships/{pair.mentorship_id}/action-items",
            {"text": word_of["action"], "owner_id": pair.mentee_id},
        )
    url = f"ws://127.0.0.1:{server.port}/ws/notes/{meeting_id}?token={pair.mentee_token}"
    notes = await NotesClient(url).connect()
    await asyncio.wait_for(notes.synced.wait(), 30)
    await notes.insert(len(str(notes.text)), f"\n{word_of['notes']} was said\n")
    await notes.close()


async def zoom_event(app: web.Application, pair: Pair, zoom_meeting_id: str, topic: str) -> None:
    """The pair's Zoom meeting, linked to their mentorship, and one stored Zoom notification
    (through Zoom's store, as its webhook stores them)."""
    from zoom_app.state import ZOOM  # only where Zoom is tested

    store = app[ZOOM].store
    await store.link_meeting(zoom_meeting_id, pair.mentorship_id, by=pair.mentor_id)
    body = {
        "event": "meeting.participant_joined",
        "payload": {"object": {"id": int(zoom_meeting_id), "uuid": "u==", "topic": topic}},
    }
    assert await store.store_event("meeting.participant_joined", body)


def scan(data_dir: Path, word: str) -> list[str]:
    """Files of the database (main, log, shared memory) in which the word's bytes occur."""
    found = []
    for path in sorted(data_dir.glob("sidecar.sqlite3*")):
        if word.encode() in path.read_bytes():
            found.append(path.name)
    return found


# Every block of a relation: pageinspect reads them from PostgreSQL's buffers.
_BLOCKS = (
    "generate_series(0, CAST(pg_relation_size(CAST(CAST(? AS TEXT) AS regclass)) / 8192"
    " AS INTEGER) - 1) AS b(blk)"
)


async def postgres_stored(db: Database) -> list[tuple[str, bytes]]:
    """What PostgreSQL holds that a query could reach: every tuple of every table and of its
    TOAST table, live or dead (heap_page_items), and every page of the search index (its GIN
    keys are words)."""
    await db.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    relations = await db.fetch_all(
        "SELECT c.relname AS name, CAST(CAST(NULLIF(c.reltoastrelid, 0) AS regclass) AS TEXT)"
        " AS toast FROM pg_class c WHERE c.relnamespace = CAST(current_schema() AS regnamespace)"
        " AND c.relkind = 'r'"
    )
    names = [r["name"] for r in relations] + [r["toast"] for r in relations if r["toast"]]
    found = []
    for name in names:
        tuples = await db.fetch_all(
            f"SELECT i.t_data FROM {_BLOCKS}, LATERAL heap_page_items(get_raw_page("
            "CAST(? AS TEXT), b.blk)) AS i WHERE i.t_data IS NOT NULL",
            (name, name),
        )
        found += [(name, bytes(row["t_data"])) for row in tuples]
    indexes = await db.fetch_all(
        "SELECT CAST(CAST(indexrelid AS regclass) AS TEXT) AS name FROM pg_index"
        " WHERE indrelid = CAST(CAST('meeting_search' AS TEXT) AS regclass)"
    )
    for index in indexes:
        pages = await db.fetch_all(
            f"SELECT get_raw_page(CAST(? AS TEXT), b.blk) AS page FROM {_BLOCKS}",
            (index["name"], index["name"]),
        )
        found += [(f"index {index['name']}", bytes(row["page"])) for row in pages]
    return found


def holding(stored: list[tuple[str, bytes]], word: str) -> list[str]:
    return sorted({name for name, data in stored if word.encode() in data})


async def test_erasing_a_mentorship_leaves_nothing_of_it_in_the_file(
    service: TestServer, tmp_path: Path
) -> None:
    app = service.app
    erased = await make_pair(app, "Erased")
    kept = await make_pair(app, "Kept")
    held = await add_meeting(app, erased, datetime.now(UTC) - timedelta(minutes=30))
    await fill(service, erased, SECRETS, held.id)
    await fill(service, kept, dict.fromkeys(SECRETS, KEPT))
    words = dict(SECRETS)
    if "zoom" in TESTED_NAMES:  # Zoom's raw events are erased by its own declaration
        await zoom_event(app, erased, "85746065432", ZOOM_TOPIC)
        await zoom_event(app, kept, "11122233344", KEPT)
        words["zoom"] = ZOOM_TOPIC
    # The meeting ends: its summary, search entry and emails now hold the words too.
    assert await end_meeting(app, held.id, source="panel", actor=None)
    data_dir = tmp_path / "data"
    db = app[DATABASE]
    on_postgres = db.dialect == "postgresql"
    if on_postgres:
        stored = await postgres_stored(db)
        for kind, word in words.items():
            assert holding(stored, word), f"{kind}: the scan must see the words before"
        where = holding(stored, SECRETS["notes"])
        assert any(name.startswith("index ") for name in where), f"the search index too: {where}"
    else:
        for kind, word in words.items():
            assert scan(data_dir, word), f"{kind}: the scan must see the words before the delete"

    async with ClientSession(str(service.make_url("/"))) as http:
        refused = await http.delete(
            f"/api/v1/mentorships/{erased.mentorship_id}", json={}, headers=erased.auth()
        )
        assert refused.status == 422
        assert "confirm" in await refused.text()
        stranger = await http.delete(
            f"/api/v1/mentorships/{erased.mentorship_id}",
            json={"confirm": True},
            headers=kept.auth(),
        )
        assert stranger.status == 404
        gone = await http.delete(
            f"/api/v1/mentorships/{erased.mentorship_id}",
            json={"confirm": True},
            headers=erased.auth("mentee"),
        )
        # Planned for after the grace period; until then both still see it.
        assert gone.status == 202, await gone.text()
        planned = await gone.json()
        during = await http.get(
            f"/api/v1/mentorships/{erased.mentorship_id}", headers=erased.auth()
        )
        assert (await during.json())["erasure"]["erase_after"] == planned["erase_after"]
        # The grace period is over: the erasure worker's round erases it.
        later = datetime.now(UTC) + timedelta(days=app[SETTINGS].erase_grace_days, minutes=1)
        assert await erasure.erase_due(app, now=later) == 1
        assert await erasure.erase_due(app, now=later) == 0
        after = await http.get(f"/api/v1/mentorships/{erased.mentorship_id}", headers=erased.auth())
        assert after.status == 404
        search = await http.get(
            f"/api/v1/mentorships/{kept.mentorship_id}/search",
            params={"q": KEPT},
            headers=kept.auth(),
        )
        assert search.status == 200

    if on_postgres:
        stored = await postgres_stored(db)
        for kind, word in words.items():
            assert holding(stored, word) == [], f"{kind}: '{word}' is still stored"
        assert holding(stored, KEPT), "the other pair's records must remain"
        for table in ("meetings", "note_updates", "summaries", "goals"):
            rows = await db.fetch_value(f"SELECT COUNT(*) FROM {table}")
            assert rows >= 1, f"{table}: the kept pair's rows went too"
    await service.close()  # shutdown compacts open rooms and checkpoints nothing of the erased
    if not on_postgres:
        for kind, word in words.items():
            assert scan(data_dir, word) == [], f"{kind}: '{word}' is still in the database files"
        assert scan(data_dir, KEPT), "the other pair's records must remain"
        with sqlite3.connect(data_dir / "sidecar.sqlite3") as sqlite:
            for table in ("meetings", "note_updates", "summaries", "goals"):
                rows = sqlite.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                assert rows >= 1, f"{table}: the kept pair's rows went too"
            assert (
                sqlite.execute(
                    "SELECT COUNT(*) FROM meetings WHERE id IN (?, ?)",
                    (erased.meeting_id, held.id),
                ).fetchone()[0]
                == 0
            )
    # Both people still exist: each may have other mentorships and their own profile.
    async with TestClient(TestServer(create_app(Settings(data_dir=data_dir)))) as http:
        me = await http.get("/api/v1/me", headers=erased.auth())
        assert me.status == 200
        assert (await me.json())["mentorships"] == []


async def test_the_export_holds_everything_of_the_person_and_their_pairs(
    client: TestClient, pair: Pair, other_pair: Pair
) -> None:
    await fill(client.server, pair, SECRETS)
    response = await client.get("/api/v1/me/export", headers=pair.auth("mentee"))
    assert response.status == 200
    assert response.content_type == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(archive.namelist())
    folder = f"mentorships/{pair.mentorship_id}"
    assert {"README.txt", "person/people.json", "person/photo.jpg"} <= names
    assert {f"{folder}/{table}.json" for table in MENTORSHIP_TABLES} <= names
    everything = b"".join(archive.read(name) for name in names).decode("utf-8", "replace")
    for kind, word in SECRETS.items():
        assert word in everything, f"{kind} is missing from the export"
    person = json.loads(archive.read("person/people.json"))
    assert person[0]["id"] == pair.mentee_id
    # Secrets never leave, not even hashed; nothing of another pair is in it.
    assert "token_hash" not in everything and "code_hash" not in everything
    for foreign in (other_pair.mentorship_id, other_pair.meeting_id, other_pair.mentor_id):
        assert foreign not in everything
    notes = [n for n in names if n.startswith(f"{folder}/notes/")]
    assert notes and SECRETS["notes"] in archive.read(notes[0]).decode()


async def test_every_table_is_exported_and_erased_on_purpose(client: TestClient) -> None:
    # As the engine lists them: sqlite_master / information_schema (PrivacyRepository).
    tables = await privacy.schema_tables(client.app)
    # The core's declarations and each enabled platform's (in its store module).
    declared = set().union(*privacy.declared_tables(client.app).values())
    assert tables - declared == set(), "new tables must be declared (sidecar/db/privacy_tables.py)"
    assert declared - tables == set(), "declarations name tables that do not exist"
