"""Group commit, ordered compaction, lazy application and relaying of live-notes updates."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import websockets
from pycrdt import Doc, Text

from sidecar.db.notes import notes_store_for
from sidecar.db.notes import sqlite as sqlite_store
from sidecar.db.notes.batch import COALESCE_BELOW_MEETINGS
from sidecar.db.notes.sqlite import SqliteNotesStore
from sidecar.keys import DATABASE, NOTE_ROOMS, SETTINGS
from sidecar.notes import protocol
from sidecar.notes import room as room_module
from sidecar.notes.room import MAX_UNAPPLIED
from sidecar.notes.store import CommitPacing
from tests import test_notes
from tests.notes_client import NotesClient
from tests.notes_storage import dialect, notes_table_locked, snapshot_flags
from tests.test_notes import Service, Start
from tests.waiting import eventually

start = test_notes.start  # the same fixture: a real service on the test's real database
# Tests over sockets run on both paths, aiohttp's private fast path and the public one
# (tests/conftest.py); those of the store alone once.
both_paths = pytest.mark.usefixtures("notes_path")


def typed_updates(count: int) -> tuple[str, list[bytes]]:
    doc: Doc[Text] = Doc()
    text = doc.get("notes", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for i in range(count):
        text.insert(len(str(text)), f"{i};")
    return str(text), updates


def loaded_text(updates: list[bytes]) -> str:
    doc: Doc[Text] = Doc()
    for update in updates:
        doc.apply_update(update)
    return str(doc.get("notes", type=Text))


def typed_4kb(doc: Doc[Text], i: int) -> bytes:
    """The update of 4 KB typed at the end of `doc`'s notes."""
    text = doc.get("notes", type=Text)
    before = doc.get_state()
    text.insert(len(str(text)), f"{i:04d}" * 1000)
    return doc.get_update(before)


def only_on_sqlite(service: Service) -> None:
    if dialect(service.app) != "sqlite":
        pytest.skip("SQLite's write-ahead log and checkpoints")


async def test_updates_submitted_together_share_one_commit(start: Start) -> None:
    service = await start()
    store = service.app[NOTE_ROOMS].store
    meeting = service.seed.meeting_id
    text, updates = typed_updates(30)
    futures = [store.submit(meeting, update, None) for update in updates[:10]]
    assert all(f is futures[0] for f in futures), "one future for the whole commit"
    assert not futures[0].done(), "nothing is done before the commit"
    compaction = asyncio.create_task(store.compact(meeting))
    await asyncio.sleep(0)  # the compaction is queued after the first ten
    later = [store.submit(meeting, update, None) for update in updates[10:25]]
    await asyncio.gather(futures[0], *later)
    assert await compaction > 0
    # It runs at the end of its commit: what that commit stored after the request is merged too.
    assert await snapshot_flags(service.app, meeting) == [1], "one snapshot of everything stored"
    await asyncio.gather(*[store.submit(meeting, update, None) for update in updates[25:]])
    flags = await snapshot_flags(service.app, meeting)
    assert flags == [1] + [0] * 5, "later commits add rows after it"
    doc: Doc[Text] = Doc()
    for update in (await store.load(meeting)).updates:
        doc.apply_update(update)
    assert str(doc.get("notes", type=Text)) == text


async def test_a_locked_database_delays_the_commit_not_the_loop(start: Start) -> None:
    # A busy timeout far longer than any load could stretch the loop's turns: had the commit
    # waited for the lock on the loop's thread, the ten turns below would take a minute.
    service = await start(sqlite_busy_timeout_ms=60_000)
    store = service.app[NOTE_ROOMS].store
    meeting = service.seed.meeting_id
    before = await snapshot_flags(service.app, meeting)
    _, updates = typed_updates(1)
    async with notes_table_locked(service.app):  # another connection holds the write lock
        committed = store.submit(meeting, updates[0], None)
        started = asyncio.get_running_loop().time()
        for _ in range(10):
            await asyncio.sleep(0.005)  # the loop keeps turning
        assert asyncio.get_running_loop().time() - started < 30
        assert not committed.done(), "not committed while the lock is held"
    await asyncio.wait_for(committed, 30)
    assert await snapshot_flags(service.app, meeting) == [*before, 0]


async def test_a_lock_held_past_the_busy_timeout_fails_the_commit(start: Start) -> None:
    service = await start(sqlite_busy_timeout_ms=50)
    store = service.app[NOTE_ROOMS].store
    _, updates = typed_updates(1)
    # What the database says of a lock it waited for too long (SQLite's busy timeout, or
    # PostgreSQL's lock_timeout, which the store sets to the same).
    expected = asyncpg.LockNotAvailableError if dialect(service.app) == "postgresql" else None
    async with notes_table_locked(service.app):
        committed = store.submit(service.seed.meeting_id, updates[0], None)
        await asyncio.wait({committed}, timeout=30)
        assert committed.done(), "the commit gave up"
    failure = committed.exception()
    if expected is None:
        assert isinstance(failure, sqlite3.OperationalError) and "locked" in str(failure)
    else:
        assert isinstance(failure, expected), repr(failure)


async def test_the_write_ahead_log_is_checkpointed_on_its_own_thread(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start()
    only_on_sqlite(service)
    meeting = service.seed.meeting_id
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 3)
    threads: list[str] = []
    real = SqliteNotesStore._checkpoint

    def checkpoint(self: SqliteNotesStore) -> None:
        threads.append(threading.current_thread().name)
        real(self)

    monkeypatch.setattr(SqliteNotesStore, "_checkpoint", checkpoint)
    store = service.app[NOTE_ROOMS].store
    for update in typed_updates(7)[1]:
        await store.submit(meeting, update, None)  # one commit each
    await eventually(lambda: bool(threads), what="a checkpoint")
    assert threads and all(name.startswith("notes-wal") for name in threads)


def stored_counts(service: Service, meeting_id: str) -> tuple[int, int]:
    """A meeting's rows in note_updates and in note_updates_recent, as another connection sees."""
    path = service.app[SETTINGS].database_path
    with contextlib.closing(sqlite3.connect(path)) as db:
        return tuple(  # type: ignore[return-value]
            db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE meeting_id = ?", (meeting_id,)
            ).fetchone()[0]
            for table in ("note_updates", "note_updates_recent")
        )


async def test_commits_land_in_the_recent_table_and_checkpoints_file_them_in_order(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start()
    only_on_sqlite(service)
    meeting = service.seed.meeting_id
    # The tenth commit checkpoints; filing then takes four transactions (3 + 3 + 3 + 1 rows).
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 10)
    monkeypatch.setattr(sqlite_store, "FILE_CHUNK_ROWS", 3)
    store = service.app[NOTE_ROOMS].store
    text, updates = typed_updates(12)
    filed, recent = stored_counts(service, meeting)
    assert recent == 0
    for update in updates[:9]:
        await store.submit(meeting, update, None)  # a commit each
    assert stored_counts(service, meeting) == (filed, 9), "committed to the recent table"
    await store.submit(meeting, updates[9], None)
    await eventually(
        lambda: stored_counts(service, meeting) == (filed + 10, 0), what="the rows filed"
    )
    for update in updates[10:]:
        await store.submit(meeting, update, None)
    assert stored_counts(service, meeting) == (filed + 10, 2)
    path = service.app[SETTINGS].database_path
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT data FROM note_updates WHERE meeting_id = ? ORDER BY id", (meeting,)
        ).fetchall()
    assert [bytes(row[0]) for row in rows[filed:]] == updates[:10], "filed in their order"

    stored = (await store.load(meeting)).updates
    assert stored[-12:] == updates, "filed rows first, then the recent ones"
    assert loaded_text(stored).endswith(text)
    # A compaction merges the rows of both tables into one snapshot.
    await store.compact(meeting)
    assert stored_counts(service, meeting) == (1, 0)
    assert await snapshot_flags(service.app, meeting) == [1]
    assert loaded_text((await store.load(meeting)).updates).endswith(text)


async def test_under_load_commits_write_note_updates_after_filing_the_recent_rows(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start()
    only_on_sqlite(service)
    meeting = service.seed.meeting_id
    # "Load" is one meeting typing: from the second commit on (the first has none recorded).
    monkeypatch.setattr(sqlite_store, "DIRECT_FROM_MEETINGS", 1)
    monkeypatch.setattr(sqlite_store, "RECENT_BELOW_MEETINGS", 1)
    store = service.app[NOTE_ROOMS].store
    _, updates = typed_updates(4)
    filed, _ = stored_counts(service, meeting)
    await store.submit(meeting, updates[0], None)
    assert stored_counts(service, meeting) == (filed, 1), "no load yet: the recent table"
    await store.submit(meeting, updates[1], None)
    assert stored_counts(service, meeting) == (filed + 2, 0), "the recent row filed first"
    await store.submit(meeting, updates[2], None)
    assert stored_counts(service, meeting) == (filed + 3, 0)
    monkeypatch.setattr(sqlite_store, "RECENT_BELOW_MEETINGS", 2)  # the load went down
    await store.submit(meeting, updates[3], None)
    assert stored_counts(service, meeting) == (filed + 3, 1), "back to the recent table"
    assert (await store.load(meeting)).updates[-4:] == updates, "in the order they came"


@both_paths
async def test_a_late_joiner_gets_updates_not_yet_applied_on_the_server(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_module, "APPLY_WHEN_IDLE_SECONDS", 3600)  # not idle in this test
    service = await start(websocket_messages_per_second=0)  # it types faster than a person
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    for i in range(MAX_UNAPPLIED + 10):  # more than a room holds unapplied: applied on the way
        await mentor.insert(len(str(mentor)), f"{i};")
    await mentee.wait_for(lambda: str(mentee) == str(mentor))
    for i in range(3):
        await mentor.insert(len(str(mentor)), f"then {i};")
    await mentee.wait_for(lambda: str(mentee) == str(mentor))
    room = service.app[NOTE_ROOMS].get(service.seed.meeting_id)
    assert room is not None and room._unapplied, "typing alone does not apply every update"
    late = await service.client("mentee")
    assert str(late) == str(mentor)
    assert not room._unapplied
    await mentor.insert(len(str(mentor)), "after;")
    await late.wait_for(lambda: str(late).endswith("after;"))
    assert await service.app[NOTE_ROOMS].read_text(service.seed.meeting_id) == str(mentor)
    for client in (mentor, mentee, late):
        await client.close()


@both_paths
async def test_an_invalid_update_right_after_valid_ones_closes_only_its_sender(
    start: Start,
) -> None:
    service = await start()
    good, bad = await service.client("mentor"), await service.client("mentee")
    before = bad.doc.get_state()
    bad.text.insert(len(str(bad)), "valid first ")
    valid = protocol.sync_update(bad.doc.get_update(before))
    await bad.send_raw(valid)  # then, without waiting for it to arrive, a broken one
    await bad.send_raw(b"\x00\x02\x03\xff\xff\xff")
    await bad.wait_closed()
    assert bad.close_code == 4400 and "invalid update" in bad.close_reason
    await good.wait_for(lambda: "valid first" in str(good))
    await good.insert(len(str(good)), "and on")
    fresh = await service.client("mentee")
    assert str(fresh) == str(good) and str(fresh).endswith("valid first and on")
    for client in (good, fresh):
        await client.close()


@both_paths
async def test_a_step_2_is_relayed_as_an_update(start: Start) -> None:
    service = await start()
    sender = await service.client("mentor")
    url = service.url(service.seed.mentee.token)
    async with websockets.connect(url) as raw:
        first = await asyncio.wait_for(raw.recv(), 5)
        assert isinstance(first, bytes) and first[:2] == b"\x00\x00", "the server's step 1"
        before = sender.doc.get_state()
        sender.text.insert(0, "offline ")
        update = sender.doc.get_update(before)
        await sender.send_raw(protocol.sync_step2(update))
        while True:
            frame = await asyncio.wait_for(raw.recv(), 5)
            assert isinstance(frame, bytes)
            if frame[0] == protocol.MessageType.SYNC:
                break
        message = protocol.parse(frame)
        assert isinstance(message, protocol.SyncMessage)
        assert message.step == protocol.SyncStep.UPDATE and message.payload == update
    await sender.close()


@both_paths
async def test_a_newcomer_is_never_shown_an_update_before_its_commit(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start()
    store = service.app[NOTE_ROOMS].store
    mentor = await service.client("mentor")
    heading = str(mentor)
    commit, submit = store._flush, store.submit
    submitted = asyncio.Event()

    def submitting(*args: Any) -> asyncio.Future[None]:
        submitted.set()
        return submit(*args)

    monkeypatch.setattr(store, "_flush", lambda: None)  # commits wait, as on a slow disk
    monkeypatch.setattr(store, "submit", submitting)
    try:
        await mentor.insert(len(heading), "not stored yet")
        # It has reached the server, which has not committed it.
        await asyncio.wait_for(submitted.wait(), 30)
        newcomer = await NotesClient(service.url(service.seed.mentee.token)).connect()
        await asyncio.sleep(0.2)
        assert not newcomer.synced.is_set(), "its sync waits for the commit"
        assert "not stored yet" not in str(newcomer), "it is shown nothing uncommitted"
    finally:
        monkeypatch.undo()
        commit()
    await asyncio.wait_for(newcomer.synced.wait(), 30)
    await newcomer.wait_for(lambda: str(newcomer) == heading + "not stored yet")
    for client in (mentor, newcomer):
        await client.close()


async def test_the_write_ahead_log_stays_small_under_steady_writing(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With commits never pausing, a checkpoint must still complete and the log be reused;
    a passive one never caught up and the log grew without end."""
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 20)
    service = await start()
    only_on_sqlite(service)
    store = service.app[NOTE_ROOMS].store
    meeting = service.seed.meeting_id
    database = service.app[SETTINGS].database_path
    wal = database.with_name(database.name + "-wal")
    doc: Doc[Text] = Doc()
    largest = [0, 0]  # the log's largest size in the first and in the second half
    for i in range(1600):  # 4 KB updates, back to back: the store is never idle
        pending = store.submit(meeting, typed_4kb(doc, i), None)
        await asyncio.sleep(0)  # one commit per turn of the loop
        if i % 10 == 0:
            half = i * 2 // 1600
            largest[half] = max(largest[half], wal.stat().st_size)
    await pending
    first, second = largest
    # Reused, the log stops growing; never reset, it grows with everything written.
    assert second <= first * 1.25 + 256 * 1024, f"the log grew from {first} to {second} bytes"


def log_frames(service: Service) -> int:
    """Frames in the write-ahead log now, as another connection's passive checkpoint reports."""
    with contextlib.closing(sqlite3.connect(service.app[SETTINGS].database_path)) as db:
        return db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


async def checkpoint_now(store: SqliteNotesStore) -> None:
    store._start_checkpoint()
    checkpointing = store._checkpointing
    assert checkpointing is not None
    await checkpointing


async def test_the_checkpoint_starts_the_log_over_and_empties_it_past_its_limit(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 10**6)
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_ROWS", 10**6)
    service = await start()
    only_on_sqlite(service)
    store = service.app[NOTE_ROOMS].store
    meeting = service.seed.meeting_id
    database = service.app[SETTINGS].database_path
    wal = database.with_name(database.name + "-wal")
    doc: Doc[Text] = Doc()

    async def type_4kb(times: int) -> None:
        for i in range(times):
            await store.submit(meeting, typed_4kb(doc, i), None)

    await type_4kb(40)
    grown = wal.stat().st_size
    assert grown > 160 * 1024
    await checkpoint_now(store)
    # Below the limit the log is started over in place: the file keeps its size (and what
    # filing the recent rows wrote), and the next commit is written from its first frames.
    assert wal.stat().st_size >= grown
    await type_4kb(1)
    assert log_frames(service) <= 4
    # Past the limit the file is emptied.
    await type_4kb(40)
    monkeypatch.setattr(sqlite_store, "WAL_TRUNCATE_ABOVE_BYTES", 64 * 1024)
    await checkpoint_now(store)
    assert wal.stat().st_size == 0
    typed = str(doc.get("notes", type=Text))
    assert typed in loaded_text((await store.load(meeting)).updates), "nothing lost"


async def test_a_reader_in_the_way_of_starting_the_log_over_does_not_hold_up_commits(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection reading an older snapshot keeps the log from being started over: the
    checkpoint gives up after its few tries, commits go on, and a later checkpoint starts the
    log over once the reader has finished."""
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 10**6)
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_ROWS", 10**6)
    monkeypatch.setattr(sqlite_store, "RESTART_TRIES", 3)
    service = await start()
    only_on_sqlite(service)
    store = service.app[NOTE_ROOMS].store
    meeting = service.seed.meeting_id
    restarts: list[bool] = []
    real = SqliteNotesStore._restart_log_without_waiting

    def restart(self: SqliteNotesStore, conn: sqlite3.Connection) -> bool:
        restarts.append(real(self, conn))
        return restarts[-1]

    monkeypatch.setattr(SqliteNotesStore, "_restart_log_without_waiting", restart)
    text, updates = typed_updates(30)
    for update in updates[:10]:
        await store.submit(meeting, update, None)
    reader = sqlite3.connect(service.app[SETTINGS].database_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM note_updates").fetchone()  # holds its snapshot
        for update in updates[10:20]:
            await store.submit(meeting, update, None)
        await checkpoint_now(store)
        for update in updates[20:25]:
            await store.submit(meeting, update, None)  # committed while the reader still reads
        assert restarts == [False], "the reader's snapshot is still in the log"
    finally:
        reader.close()
    monkeypatch.setattr(sqlite_store, "RESTART_TRIES", 200)  # as in service: a busy host waits
    await checkpoint_now(store)
    assert restarts == [False, True]
    await store.submit(meeting, updates[25], None)
    assert log_frames(service) <= 4, "written from the log's first frames"
    for update in updates[26:]:
        await store.submit(meeting, update, None)
    assert loaded_text((await store.load(meeting)).updates).endswith(text), "nothing lost"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def steady(pacing: CommitPacing, clock: FakeClock, meetings: int, seconds: float) -> None:
    """Commits every 10 ms for `seconds`, `meetings` meetings typing 10 edits a second."""
    typing = [f"meeting-{i}" for i in range(meetings)]
    for tick in range(int(seconds * 100)):
        clock.now += 0.010
        pacing.record(typing[tick % 10 :: 10])


def test_commits_wait_only_under_real_load() -> None:
    clock = FakeClock()
    pacing = CommitPacing(0.010, clock=clock)
    assert pacing.window() == 0, "idle: at once"
    steady(pacing, clock, 5, 5)  # five pairs typing
    assert pacing.meetings() == 5
    assert pacing.window() == 0, "a few pairs typing: every commit at once"
    steady(pacing, clock, 25, 5)  # halfway between 10 and 40 meetings
    assert pacing.window() == pytest.approx(0.005), "in between: in proportion"
    steady(pacing, clock, 500, 5)  # 500 meetings, two people, 5 edits a second each
    assert pacing.window() == 0.010, "real load: the whole window"
    clock.now += 0.5  # typing stops: the last second's count still holds a moment
    assert pacing.window() == 0.010
    clock.now += 2  # then the window goes with the load
    assert pacing.window() == 0


def test_a_lone_pair_bursting_is_still_committed_at_once() -> None:
    """Both people, 20 rounds of 10 single-character inserts 2 ms apart (1,000 updates a second
    for 0.4 s, as Yjs's own tests send them): one meeting, so no wait at all."""
    clock = FakeClock()
    pacing = CommitPacing(0.010, clock=clock)
    for _ in range(200):
        clock.now += 0.002
        pacing.record(["the pair's meeting"] * 2)
    assert pacing.window() == 0


@contextlib.asynccontextmanager
async def store_on_a_fake_clock(service: Service) -> AsyncIterator[tuple[Any, FakeClock]]:
    """The service's notes store, started on its own, its pacing read from a clock the test
    moves (a 10 ms window)."""
    clock = FakeClock()
    store = notes_store_for(
        service.app[DATABASE], commit_window_seconds=0.010, busy_timeout_ms=5000, clock=clock
    )
    await store.start()
    try:
        yield store, clock
    finally:
        await store.stop()


async def test_the_store_commits_at_once_when_idle_and_batches_under_load(start: Start) -> None:
    service = await start()
    async with store_on_a_fake_clock(service) as (store, clock):
        meeting = service.seed.meeting_id
        _, updates = typed_updates(4)
        await store.submit(meeting, updates[0], None)
        committed = store.submit(meeting, updates[1], None)  # right after a commit, but idle
        assert not isinstance(store._scheduled, asyncio.TimerHandle), "on the loop's next turn"
        await committed
        steady(store.pacing, clock, 50, 5)  # as if 50 meetings were typing
        slept: list[float] = []
        store._sleep = slept.append  # type: ignore[method-assign]
        await store.submit(meeting, updates[2], None)
        committed = store.submit(meeting, updates[3], None)  # right after a commit, under load
        if store.coalesce_reads:  # SQLite: the loop sleeps out the window, polls, then commits
            assert not isinstance(store._scheduled, asyncio.TimerHandle)
            await committed
            assert slept == [pytest.approx(0.010)], "slept out the whole window, once"
        else:  # PostgreSQL: a timer, the loop goes on polling
            assert isinstance(store._scheduled, asyncio.TimerHandle), "waits for the window"
            await committed
            assert slept == []


async def test_from_400_meetings_the_wait_is_a_timer_again(start: Start) -> None:
    """Coalesced reads lengthened each cycle at 500-600 meetings (run G1: p99 40 and 63 ms), so
    from `COALESCE_BELOW_MEETINGS` up the store waits on a timer and the loop goes on reading."""
    service = await start()
    async with store_on_a_fake_clock(service) as (store, clock):
        meeting = service.seed.meeting_id
        _, updates = typed_updates(2)
        steady(store.pacing, clock, COALESCE_BELOW_MEETINGS, 5)
        await store.submit(meeting, updates[0], None)
        committed = store.submit(meeting, updates[1], None)
        assert isinstance(store._scheduled, asyncio.TimerHandle), "waits on a timer"
        await committed


async def test_under_load_frames_that_arrive_while_the_loop_sleeps_share_its_commit(
    start: Start,
) -> None:
    """SQLite's store sleeps out the window on the loop's thread; what arrived meanwhile is read
    in the poll that follows and goes into the same commit, not the next one."""
    service = await start()
    async with store_on_a_fake_clock(service) as (store, clock):
        if not store.coalesce_reads:
            pytest.skip("PostgreSQL's store commits on its own connection and waits on a timer")
        meeting = service.seed.meeting_id
        _, updates = typed_updates(4)
        await store.submit(meeting, updates[0], None)
        steady(store.pacing, clock, 50, 5)
        await store.submit(meeting, updates[3], None)  # a commit just now, under load
        loop = asyncio.get_running_loop()
        late: list[asyncio.Future[None]] = []

        def sleep(seconds: float) -> None:  # as if a frame had arrived during the sleep
            loop.call_soon(lambda: late.append(store.submit(meeting, updates[2], None)))

        store._sleep = sleep  # type: ignore[method-assign]
        first = store.submit(meeting, updates[1], None)
        await first
        assert late and late[0] is first, "the frame read after the sleep shares its commit"


@both_paths
async def test_an_idle_room_applies_what_it_holds_unapplied(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody typing: the room folds its committed updates into the document, so an idle open
    meeting holds the document alone, not hundreds of small update objects."""
    monkeypatch.setattr(room_module, "APPLY_WHEN_IDLE_SECONDS", 0.05)
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    for i in range(20):
        await mentor.insert(len(str(mentor)), f"{i};")
    await mentee.wait_for(lambda: str(mentee) == str(mentor))
    room = service.app[NOTE_ROOMS].get(service.seed.meeting_id)
    assert room is not None
    await eventually(lambda: not room._unapplied, what="the idle room to apply its updates")
    assert room.text() == str(mentor)
    for client in (mentor, mentee):
        await client.close()
