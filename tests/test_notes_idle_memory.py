"""What an open meeting keeps while nobody types: its notes as one update, not a live document.

A room builds its pycrdt document only once something is applied to it or it is read; until
then it answers every sync from the stored updates, merged (bench/README.md, "Memory per idle
open meeting"). These check that the answers are the same either way, with real sockets on both
aiohttp paths.
"""

from __future__ import annotations

import pytest

from sidecar.keys import NOTE_ROOMS
from sidecar.notes import room as room_module
from tests import test_notes
from tests.test_notes import Start
from tests.waiting import eventually

start = test_notes.start  # the same fixture: a real service on a real SQLite file
pytestmark = pytest.mark.usefixtures("notes_path")


async def test_a_room_nobody_typed_in_holds_no_document_until_someone_types(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_module, "APPLY_WHEN_IDLE_SECONDS", 0.05)
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    await mentor.round_trip()
    await mentee.round_trip()
    room = service.app[NOTE_ROOMS].get(service.seed.meeting_id)
    assert room is not None
    assert room.doc is None, "two people synced, nobody typing: no document built"
    heading = str(mentor)
    assert heading.startswith("# Weekly check-in (") and str(mentee) == heading

    await mentor.insert(len(heading), "first line")
    await mentee.wait_for(lambda: str(mentee) == heading + "first line")
    await eventually(lambda: room.doc is not None, what="the typed update applied")
    late = await service.client("mentee")
    assert str(late) == heading + "first line"
    assert await service.app[NOTE_ROOMS].read_text(service.seed.meeting_id) == str(late)
    for client in (mentor, mentee, late):
        await client.close()


async def test_notes_reloaded_from_many_stored_updates_sync_in_full(start: Start) -> None:
    service = await start(notes_room_idle_seconds=0.05)
    rooms = service.app[NOTE_ROOMS]
    mentor = await service.client("mentor")
    for i in range(30):  # thirty stored rows (compaction waits for 500)
        await mentor.insert(len(str(mentor)), f"{i};")
    await mentor.round_trip()
    typed = str(mentor)
    await mentor.close()
    meeting = service.seed.meeting_id
    await eventually(lambda: rooms.get(meeting) is None, what="the room to leave memory")

    mentee = await service.client("mentee")  # the room loads the rows, merged into one
    room = rooms.get(meeting)
    assert room is not None and room.doc is None
    assert str(mentee) == typed
    await mentee.insert(0, ">")
    again = await service.client("mentor")
    await again.wait_for(lambda: str(again) == ">" + typed)
    assert await rooms.read_text(meeting) == ">" + typed
    for client in (mentee, again):
        await client.close()
