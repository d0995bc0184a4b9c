"""The database: the same promises on SQLite (one file in WAL mode) and on PostgreSQL (a pool),
migrated once from one numbered list, closed cleanly.

Tests taking `database` run on both backends (PostgreSQL on the throwaway cluster of
tests/postgres_cluster.py; they skip there, saying why, where PostgreSQL is not installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sidecar.db import Database, Migration, open_database
from sidecar.db.connection import BUSY_SLICE_MS
from sidecar.db.migrations import MIGRATIONS
from sidecar.db.postgres import PostgresDatabase, redacted, rowcount
from sidecar.db.sql_params import to_postgres
from sidecar.settings import Settings, SettingsError
from tests.postgres_cluster import PostgresCluster
from tests.postgres_cluster import why_not as postgres_unavailable

PERSON = "INSERT INTO people VALUES (?, 'n', 'e', 'UTC', 'en', '', 'now', 'now')"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        target: str | Path = tmp_path / "x.sqlite3"
    else:
        target = request.getfixturevalue("postgres_url")
    db = await open_database(target)
    try:
        yield db
    finally:
        await db.close()


def target_of(db: Database, tmp_path: Path) -> str | Path:
    """What the `database` fixture opened, to open it again."""
    if isinstance(db, PostgresDatabase):
        return db.url
    return tmp_path / "x.sqlite3"


async def reopened(db: Database, tmp_path: Path) -> Database:
    """The same database opened again (its migrations run a second time)."""
    return await open_database(target_of(db, tmp_path))


async def add_people(db: Database, *ids: str) -> None:
    for person in ids:
        await db.execute(PERSON, (person,))


# --- both backends -----------------------------------------------------------------------------


async def test_every_migration_is_applied_and_recorded(database: Database) -> None:
    versions = await database.fetch_all("SELECT version, applied_at FROM schema_version")
    assert [row["version"] for row in versions] == [m.version for m in MIGRATIONS]
    assert all(row["applied_at"] for row in versions)


async def test_migrations_run_once(database: Database, tmp_path: Path) -> None:
    again = await reopened(database, tmp_path)
    await again.close()
    versions = await database.fetch_all("SELECT version FROM schema_version ORDER BY version")
    assert [row["version"] for row in versions] == [m.version for m in MIGRATIONS]


async def test_positional_and_named_placeholders(database: Database) -> None:
    await add_people(database, "p1", "p2")
    named = await database.fetch_all(
        "SELECT id FROM people WHERE id = :a OR (id = :b AND name <> ':a') OR id = :a ORDER BY id",
        {"a": "p1", "b": "p2", "unused": 1},
    )
    assert [row["id"] for row in named] == ["p1", "p2"]
    # A ? inside a string or a comment is no placeholder.
    value = await database.fetch_value(
        "SELECT name || '?' FROM people -- where id = ?\n WHERE id = ? /* ? */", ("p2",)
    )
    assert value == "n?"


async def test_execute_returns_the_rows_changed(database: Database) -> None:
    await add_people(database, "p1", "p2", "p3")
    assert await database.execute("UPDATE people SET name = ? WHERE id <> ?", ("m", "p1")) == 2
    assert await database.execute("DELETE FROM people WHERE id = ?", ("nobody",)) == 0
    assert await database.execute(PERSON, ("p4",)) == 1


async def test_execute_many_and_fetch_helpers(database: Database) -> None:
    await database.execute_many(PERSON, [("a",), ("b",), ("c",)])
    await database.execute_many("UPDATE people SET name = :name WHERE id = :id", [])
    assert await database.fetch_value("SELECT COUNT(*) FROM people") == 3
    assert await database.fetch_one("SELECT id FROM people WHERE id = ?", ("z",)) is None
    assert await database.fetch_value("SELECT id FROM people WHERE id = ?", ("z",)) is None
    row = await database.fetch_one("SELECT id, name FROM people WHERE id = ?", ("b",))
    assert row == {"id": "b", "name": "n"}


async def test_new_ids_come_back_from_returning(database: Database) -> None:
    first = await database.fetch_value(
        "INSERT INTO outbox (dedupe_key, kind, recipient, subject, message, created_at,"
        " next_attempt_at) VALUES (?, 'k', 'r', 's', ?, 't', 't') RETURNING id",
        ("one", b"x"),
    )
    second = await database.fetch_value(
        "INSERT INTO outbox (dedupe_key, kind, recipient, subject, message, created_at,"
        " next_attempt_at) VALUES (?, 'k', 'r', 's', ?, 't', 't') RETURNING id",
        ("two", b"y"),
    )
    assert isinstance(first, int) and second > first


async def test_bytes_round_trip(database: Database) -> None:
    await add_people(database, "p")
    data = bytes(range(256)) * 3 + b"\x00"
    await database.execute("INSERT INTO photos VALUES (?, 'image/jpeg', ?, 'now')", ("p", data))
    stored = await database.fetch_value("SELECT data FROM photos WHERE person_id = ?", ("p",))
    assert type(stored) is bytes and stored == data


async def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction():
            await add_people(database, "p")
            raise RuntimeError("boom")
    assert await database.fetch_value("SELECT COUNT(*) FROM people") == 0


async def test_a_nested_transaction_joins_the_outer_one(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as outer:
            async with outer.transaction():
                await add_people(database, "inner")
            # Tasks started inside share the transaction (what they wrote goes with it).
            await asyncio.gather(add_people(database, "a"), add_people(database, "b"))
            assert await database.fetch_value("SELECT COUNT(*) FROM people") == 3
            raise RuntimeError("the outer one fails")
    assert await database.fetch_value("SELECT COUNT(*) FROM people") == 0
    async with database.transaction(), database.transaction():
        await add_people(database, "kept")
    assert await database.fetch_value("SELECT COUNT(*) FROM people") == 1


async def test_a_task_cancelled_mid_transaction_leaves_the_database_usable(
    database: Database,
) -> None:
    """Cancelled at every point of the way (taking the lock or connection, BEGIN, between two
    writes, waiting inside): nothing of it is committed, nothing is left open, and the driver
    reports no transaction it had to clean up after us."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        for step in range(14):

            async def write() -> None:
                async with database.transaction():
                    await add_people(database, "p")
                    await add_people(database, "q")
                    await asyncio.Event().wait()  # until cancelled

            task = asyncio.create_task(write())
            for _ in range(step):
                await asyncio.sleep(0)  # cancelled at a different point each time
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # Must not fail with "transaction within a transaction".
            async with database.transaction():
                assert await database.fetch_value("SELECT COUNT(*) FROM people") == 0
    finally:
        loop.set_exception_handler(None)
    assert not reported, reported[:3]


async def test_concurrent_claims_never_take_the_same_row(database: Database) -> None:
    """The claim pattern of the repositories: SELECT ... LIMIT n{skip_locked}, then UPDATE, in one
    transaction. SQLite serialises the transactions; PostgreSQL skips the rows locked by
    another claim."""
    await database.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, claimed_by TEXT)")
    await database.execute_many("INSERT INTO jobs (id) VALUES (?)", [(n,) for n in range(6)])
    both_inside = asyncio.Barrier(2) if database.dialect == "postgresql" else None

    async def claim(worker: str) -> list[int]:
        async with database.transaction():
            rows = await database.fetch_all(
                "SELECT id FROM jobs WHERE claimed_by IS NULL ORDER BY id LIMIT 3"
                + database.skip_locked
            )
            if both_inside is not None:
                await both_inside.wait()  # both hold their rows before either commits
            for row in rows:
                await database.execute(
                    "UPDATE jobs SET claimed_by = ? WHERE id = ?", (worker, row["id"])
                )
            return [row["id"] for row in rows]

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert sorted(first + second) == list(range(6))


async def test_a_failing_migration_leaves_nothing_behind(
    database: Database, tmp_path: Path
) -> None:
    broken = [
        *MIGRATIONS,
        Migration(
            MIGRATIONS[-1].version + 1,
            sqlite="CREATE TABLE half (x INTEGER); CREATE TABLE broken (",
            postgres="CREATE TABLE half (x INTEGER); CREATE TABLE broken (",
        ),
    ]
    target = target_of(database, tmp_path)
    with pytest.raises(Exception, match=r"syntax|incomplete"):
        await open_database(target, migrations=broken)
    assert await database.fetch_value("SELECT MAX(version) FROM schema_version") == len(MIGRATIONS)
    with pytest.raises(Exception, match="half"):
        await database.fetch_value("SELECT COUNT(*) FROM half")


async def test_migration_16_stores_any_platform_name(database: Database) -> None:
    """Issue 15: a third platform stores its own name; the name is checked by the domain."""
    await add_people(database, "p")
    await database.execute(
        "INSERT INTO mentorships (id, title, mentor_id, created_by, created_at, updated_by,"
        " updated_at) VALUES ('ms', 'M', 'p', 'p', 't', 'p', 't')"
    )
    meeting = (
        "INSERT INTO meetings (id, mentorship_id, title, scheduled_start, scheduled_end,"
        " platform, status, created_by, created_at, updated_by, updated_at) VALUES"
        " (?, 'ms', 'T', '2026-01-01', '2026-01-02', ?, 'scheduled', 'p', 't', 'p', 't')"
    )
    await database.execute(meeting, ("m1", "teams"))
    await database.execute("INSERT INTO agenda_items VALUES ('a', 'm1', 'topics', 'x', 0, 0,"
                           " 'p', 't', 'p', 't')")  # fmt: skip
    assert await database.fetch_value("SELECT platform FROM meetings") == "teams"
    with pytest.raises(Exception, match=r"(?i)check"):
        await database.execute(meeting, ("m2", ""))
    # The rebuilt table (SQLite) keeps its foreign keys: deleting the meeting takes its agenda.
    await database.execute("DELETE FROM meetings WHERE id = 'm1'")
    assert await database.fetch_value("SELECT COUNT(*) FROM agenda_items") == 0


async def test_platform_migrations_are_recorded_per_platform(
    database: Database, tmp_path: Path
) -> None:
    table = "CREATE TABLE demo_things (id TEXT)"
    steps = [Migration(1, sqlite=table, postgres=table)]
    target = target_of(database, tmp_path)
    for _ in range(2):
        again = await open_database(target, platform_migrations={"demo": steps})
        await again.close()
    rows = await database.fetch_all("SELECT platform, version FROM platform_schema_version")
    assert rows == [{"platform": "demo", "version": 1}]
    assert await database.fetch_value("SELECT COUNT(*) FROM demo_things") == 0


# --- SQLite ------------------------------------------------------------------------------------


async def test_sqlite_opens_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "x.sqlite3")
    try:
        assert db.dialect == "sqlite" and db.skip_locked == ""
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        # Waiting for a lock: 5 s in all, in slices SQLite waits itself, retried by `Database`.
        assert db.busy_timeout_s == 5.0  # type: ignore[attr-defined]
        assert await db.fetch_value("PRAGMA busy_timeout") == BUSY_SLICE_MS
        assert await db.fetch_value("PRAGMA secure_delete") == 1
    finally:
        await db.close()


async def test_sqlite_urls_and_settings_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.sqlite3"
    for target in (f"sqlite:///{path}", f"sqlite:////{path}"):
        settings = Settings(data_dir=tmp_path / "data", database_url=target)
        assert settings.database_path == path and settings.database_dialect == "sqlite"
        db = await open_database(settings)
        await db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == len(
            MIGRATIONS
        )
    default = Settings(data_dir=tmp_path / "data", database_url="")
    assert default.database_path == tmp_path / "data" / "sidecar.sqlite3"


async def test_an_unknown_database_url_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(
        SettingsError, match=r"MENTOR_SIDECAR_DATABASE_URL.*not a database URL"
    ) as refused:
        Settings.from_env({"MENTOR_SIDECAR_DATABASE_URL": "mysql://u:secret@db/x"})
    assert "secret" not in str(refused.value)
    with pytest.raises(SettingsError, match="MENTOR_SIDECAR_DATABASE_URL"):
        Settings.from_env({"MENTOR_SIDECAR_DATABASE_URL": "sqlite://host/x"})
    with pytest.raises(SettingsError, match=r"MENTOR_SIDECAR_DATABASE_URL.*not a database URL"):
        await open_database("mongodb://db/x")
    pg = Settings.from_env({"MENTOR_SIDECAR_DATABASE_URL": "postgresql://u:secret@db:5433/x"})
    assert pg.database_dialect == "postgresql"
    assert redacted(pg.database_url) == "postgresql://u@db:5433/x"


def test_migration_numbers_are_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert all(m.sqlite.strip() and m.postgres.strip() for m in MIGRATIONS)


async def test_a_transaction_gets_the_lock_between_another_writers_short_commits(
    tmp_path: Path,
) -> None:
    """The live-notes store commits every millisecond or so on its own connection; SQLite's busy
    handler alone (which looks at the lock up to 100 ms apart) could miss every free moment and
    fail with "database is locked". Another connection here holds the write lock 90% of the time,
    in 10 ms bursts, for 3 s; every transaction of ours must still get through."""
    import threading
    import time

    path = tmp_path / "db.sqlite3"
    db = await open_database(path, busy_timeout_ms=3000)
    stop = threading.Event()

    def hog() -> None:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        while not stop.is_set():
            other.execute("BEGIN IMMEDIATE")
            time.sleep(0.009)
            other.execute("COMMIT")
            time.sleep(0.001)
        other.close()

    hogging = threading.Thread(target=hog)
    hogging.start()
    try:
        for n in range(30):
            async with db.transaction():
                await db.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
                await db.execute("INSERT INTO t VALUES (?)", (n,))
            await db.execute("INSERT INTO t VALUES (?)", (-n,))  # outside a transaction too
    finally:
        stop.set()
        await asyncio.to_thread(hogging.join)
    assert await db.fetch_value("SELECT COUNT(*) FROM t") == 60
    await db.close()


# --- PostgreSQL --------------------------------------------------------------------------------


async def test_postgres_search_table_folds_case_and_accents(postgres_url: str) -> None:
    """Migration 6 on PostgreSQL: `sidecar_search` (simple + unaccent), as FTS5's
    `remove_diacritics 2`; the INSERT is the same text as on SQLite."""
    db = await open_database(postgres_url)
    try:
        await add_people(db, "p")
        await db.execute(
            "INSERT INTO mentorships (id, title, mentor_id, created_by, created_at, updated_by,"
            " updated_at) VALUES ('ms', 'M', 'p', 'p', 't', 'p', 't')"
        )
        await db.execute(
            "INSERT INTO meetings (id, mentorship_id, title, scheduled_start, scheduled_end,"
            " platform, status, created_by, created_at, updated_by, updated_at) VALUES"
            " ('m', 'ms', 'T', '2026-01-01', '2026-01-02', 'link', 'ended', 'p', 't', 'p', 't')"
        )
        await db.execute(
            "INSERT INTO meeting_search (meeting_id, mentorship_id, title, summary, notes)"
            " VALUES (?, ?, ?, ?, ?)",
            ("m", "ms", "Résumé review", "", "Café Über naïve"),
        )
        for word in ("resume", "RÉSUMÉ", "cafe", "uber", "naive"):
            found = await db.fetch_value(
                "SELECT meeting_id FROM meeting_search"
                " WHERE document @@ plainto_tsquery('sidecar_search', ?)",
                (word,),
            )
            assert found == "m", word
        assert await db.fetch_value("SELECT COUNT(*) FROM meeting_search WHERE document @@"
                                    " plainto_tsquery('sidecar_search', 'tea')") == 0  # fmt: skip
    finally:
        await db.close()


async def test_postgres_casts_and_dialect(postgres_url: str) -> None:
    db = await open_database(postgres_url)
    try:
        assert db.dialect == "postgresql" and db.skip_locked == " FOR UPDATE SKIP LOCKED"
        assert await db.fetch_value("SELECT CAST(? AS TEXT)::text || '::x'", ("a",)) == "a::x"
        assert await db.fetch_value("SELECT $$ ? :no $$ || CAST(:yes AS TEXT)", {"yes": "!"}) == (
            " ? :no !"
        )
    finally:
        await db.close()


# --- the placeholder rewrite -------------------------------------------------------------------


def test_placeholders_become_numbered_outside_strings_and_comments() -> None:
    rewritten = to_postgres("SELECT ? , '?', \"a?\", x::int -- ?\n, E'\\'?', ? /* ? */")
    assert rewritten.sql == "SELECT $1 , '?', \"a?\", x::int -- ?\n, E'\\'?', $2 /* ? */"
    assert rewritten.arguments(("a", "b")) == ["a", "b"]
    named = to_postgres("UPDATE t SET a = :a, b = :b WHERE a = :a AND c = 'x:y' AND d = ':a'")
    assert named.sql == "UPDATE t SET a = $1, b = $2 WHERE a = $1 AND c = 'x:y' AND d = ':a'"
    assert named.arguments({"b": 2, "a": 1, "extra": 3}) == [1, 2]
    assert to_postgres("SELECT 'it''s ?', ?").sql == "SELECT 'it''s ?', $1"
    assert to_postgres("SELECT ?") is to_postgres("SELECT ?")  # rewritten once per text


def test_placeholder_mistakes_are_named() -> None:
    with pytest.raises(ValueError, match="mixes"):
        to_postgres("SELECT ?, :a")
    with pytest.raises(KeyError, match=":b"):
        to_postgres("SELECT :a, :b").arguments({"a": 1})
    with pytest.raises(TypeError, match="dict"):
        to_postgres("SELECT :a").arguments((1,))
    with pytest.raises(TypeError, match="2 parameter"):
        to_postgres("SELECT ?, ?").arguments((1,))


def test_rowcount_from_the_status() -> None:
    assert rowcount("INSERT 0 3") == 3
    assert rowcount("UPDATE 2") == 2
    assert rowcount("DELETE 0") == 0
    assert rowcount("SELECT 5") == -1
    assert rowcount("CREATE TABLE") == -1


async def test_a_refused_constraint_is_an_integrity_error_on_both(database: Database) -> None:
    from sidecar.db.database import DATABASE_ERRORS, INTEGRITY_ERRORS

    await add_people(database, "p")
    with pytest.raises(INTEGRITY_ERRORS):
        await add_people(database, "p")
    with pytest.raises(DATABASE_ERRORS):
        await database.execute("SELECT * FROM no_such_table")


async def test_postgres_migrates_an_empty_database_once_when_two_processes_start_together(
    postgres_cluster: PostgresCluster,
) -> None:
    """From empty, as a new deployment's first start: two services opening it at once take
    turns (an advisory lock), so every migration is applied and recorded once."""
    name = postgres_cluster.new_name()
    postgres_cluster.execute(f"CREATE DATABASE {name}")
    try:
        url = postgres_cluster.url(name)
        first, second = await asyncio.gather(open_database(url), open_database(url))
        versions = await first.fetch_all("SELECT version FROM schema_version ORDER BY version")
        assert [row["version"] for row in versions] == [m.version for m in MIGRATIONS]
        assert await second.fetch_value("SELECT COUNT(*) FROM people") == 0
        await first.close()
        await second.close()
    finally:
        postgres_cluster.drop(name)


async def test_migration_16_keeps_the_rows_of_tables_that_reference_meetings(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A database at version 15 with a platform's table pointing at meetings (as Jitsi's
    rooms do): after 16 (on SQLite a rebuild of meetings) the row is there and still cascades."""
    table = (
        "CREATE TABLE demo_rooms (meeting_id TEXT PRIMARY KEY"
        " REFERENCES meetings(id) ON DELETE CASCADE)"
    )
    rooms = {"demo": [Migration(1, sqlite=table, postgres=table)]}
    targets: list[str | Path] = [tmp_path / "old.sqlite3"]
    if postgres_unavailable() is None:  # and on PostgreSQL where it is installed
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        name = cluster.new_name()
        cluster.execute(f"CREATE DATABASE {name}")
        request.addfinalizer(lambda: cluster.drop(name))
        targets.append(cluster.url(name))
    for target in targets:
        old = await open_database(target, platform_migrations=rooms, migrations=MIGRATIONS[:15])
        await add_people(old, "p")
        await old.execute(
            "INSERT INTO mentorships (id, title, mentor_id, created_by, created_at, updated_by,"
            " updated_at) VALUES ('ms', 'M', 'p', 'p', 't', 'p', 't')"
        )
        await old.execute(
            "INSERT INTO meetings (id, mentorship_id, title, scheduled_start, scheduled_end,"
            " platform, status, created_by, created_at, updated_by, updated_at) VALUES"
            " ('m', 'ms', 'T', '2026-01-01', '2026-01-02', 'jitsi', 'ended', 'p', 't', 'p', 't')"
        )
        await old.execute("INSERT INTO demo_rooms VALUES ('m')")
        await old.close()
        db = await open_database(target, platform_migrations=rooms)
        try:
            assert await db.fetch_value("SELECT MAX(version) FROM schema_version") == len(
                MIGRATIONS
            )
            assert await db.fetch_value("SELECT platform FROM meetings") == "jitsi"
            assert await db.fetch_value("SELECT COUNT(*) FROM demo_rooms") == 1
            await db.execute("DELETE FROM meetings")
            assert await db.fetch_value("SELECT COUNT(*) FROM demo_rooms") == 0, target
        finally:
            await db.close()


async def test_sqlite_migrates_a_new_file_once_when_two_processes_start_together(
    tmp_path: Path,
) -> None:
    """Two services on one new SQLite file (each its own connection): each migration's row goes
    in first under the write lock, so the second to get there skips what the first applied."""
    path = tmp_path / "shared.sqlite3"
    table = "CREATE TABLE demo_things (id TEXT)"
    rooms = {"demo": [Migration(1, sqlite=table, postgres=table)]}
    opened = await asyncio.gather(*(open_database(path, 5000, rooms) for _ in range(3)))
    for db in opened:
        await db.close()
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        platform = conn.execute("SELECT COUNT(*) FROM platform_schema_version").fetchone()[0]
    assert versions == [m.version for m in MIGRATIONS] and platform == 1


async def test_sqlite_waits_to_switch_a_new_file_to_wal_while_another_process_writes(
    tmp_path: Path,
) -> None:
    """SQLite answers "database is locked" at once, without its busy handler, to a connection
    switching a file to WAL while another holds the write lock (what a second service opening
    the same new file sees). Opening retries until the busy timeout instead."""
    path = tmp_path / "shared.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("CREATE TABLE theirs (id TEXT)")
        other.execute("BEGIN IMMEDIATE")
        opening = asyncio.create_task(open_database(path, 60_000))
        # Give it time to meet the lock (this only makes the test sharper; it passes without).
        done, _ = await asyncio.wait({opening}, timeout=0.3)
        assert not done or opening.exception() is None, opening.exception()
        other.execute("COMMIT")
        db = await opening
    finally:
        other.close()
    try:
        assert str(await db.fetch_value("PRAGMA journal_mode")).lower() == "wal"
    finally:
        await db.close()


async def test_after_commit_runs_once_committed_and_never_after_a_rollback(
    database: Database,
) -> None:
    """What a worker on another connection is woken by: the row is visible when it runs."""
    await database.execute("CREATE TABLE woken (id INTEGER PRIMARY KEY)")
    seen: list[object] = []

    async def look() -> None:  # what the woken worker does: read on a connection of its own
        seen.append(await database.fetch_value("SELECT COUNT(*) FROM woken"))

    looks: list[asyncio.Task[None]] = []
    database.after_commit(lambda: seen.append("outside"))
    assert seen == ["outside"]  # outside a transaction: at once
    seen.clear()
    async with database.transaction():
        await database.execute("INSERT INTO woken (id) VALUES (1)")
        async with database.transaction():  # a nested one joins the outer commit
            database.after_commit(lambda: looks.append(asyncio.ensure_future(look())))
        assert looks == []
    assert len(looks) == 1
    await looks[0]
    assert seen == [1]

    with pytest.raises(RuntimeError):
        async with database.transaction():
            await database.execute("INSERT INTO woken (id) VALUES (2)")
            database.after_commit(lambda: seen.append("rolled back"))
            raise RuntimeError("abandon")
    assert seen == [1]
