"""Two processes of the service over one database, told the same thing at the same moment.

On PostgreSQL (READ COMMITTED, a pool per process) their transactions really run side by side,
so what must happen once (ending a meeting, going live) cannot rest on SQLite's single writer:
ending locks the meeting's row and going live is a conditional UPDATE. On SQLite the two
processes are two connections to one file, taking turns at its write lock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar import call_events
from sidecar.domain.ids import iso
from sidecar.keys import DATABASE, REPOS, WEBSOCKETS
from sidecar.meeting_lifecycle import end_idle_meetings, end_meeting
from sidecar.settings import Settings
from tests.conftest import ClientFactory, add_meeting, make_pair
from tests.platform_settings import app_of
from tests.waiting import eventually

Client = TestClient[web.Request, web.Application]


async def two_processes(aiohttp_client: ClientFactory, settings: Settings) -> tuple[Client, Client]:
    return await aiohttp_client(app_of(settings)), await aiohttp_client(app_of(settings))


async def count(app: web.Application, sql: str, *params: Any) -> int:
    return int(await app[DATABASE].fetch_value(sql, params))


async def test_two_processes_ending_a_meeting_at_once_file_it_once(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    first, second = await two_processes(aiohttp_client, settings)
    pair = await make_pair(first.app, "twice")
    now = datetime.now(UTC)
    meeting = await add_meeting(first.app, pair, now - timedelta(minutes=30), title="Today")
    await first.app[REPOS].agenda.add(
        meeting.id, section="topics", text="Saying no to extra projects", viewer=pair.mentee_id
    )
    assert await call_events.joined(
        second.app, meeting.id, pair.mentee_id, platform="jitsi", at=now
    )

    results = await asyncio.gather(
        end_meeting(first.app, meeting.id, source="panel", actor=pair.mentor_id),
        end_meeting(second.app, meeting.id, source="panel", actor=pair.mentee_id),
        call_events.ended(first.app, meeting.id, platform="zoom"),
        call_events.ended(second.app, meeting.id, platform="jitsi"),
    )

    assert sorted(results) == [False, False, False, True]
    app = first.app
    assert await count(app, "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", meeting.id) == 1
    copies = await count(
        app, "SELECT COUNT(*) FROM summary_copies WHERE meeting_id = ?", meeting.id
    )
    assert copies == 2
    emails = await app[DATABASE].fetch_all(
        "SELECT person_id FROM outbox WHERE meeting_id = ? AND kind = 'summary'", (meeting.id,)
    )
    assert sorted(row["person_id"] for row in emails) == sorted([pair.mentor_id, pair.mentee_id])
    # The topic not reached moves to the next meeting (the pair's, tomorrow) once.
    carried = await app[REPOS].agenda.list(pair.meeting_id, viewer=pair.mentor_id)
    assert [item.text for item in carried].count("Saying no to extra projects") == 1
    ended = await app[REPOS].meetings.read_for_service(meeting.id)
    assert ended.status == "ended"


async def test_two_processes_reporting_the_first_join_make_the_meeting_live_once(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    first, second = await two_processes(aiohttp_client, settings)
    pair = await make_pair(first.app, "live")
    now = datetime.now(UTC)
    meeting = await add_meeting(first.app, pair, now - timedelta(minutes=2))
    results = await asyncio.gather(
        call_events.joined(first.app, meeting.id, pair.mentee_id, platform="zoom", at=now),
        call_events.joined(second.app, meeting.id, pair.mentor_id, platform="jitsi", at=now),
        call_events.joined(second.app, meeting.id, pair.mentee_id, platform="jitsi", at=now),
    )
    assert sorted(results) == [False, False, True]
    live = await first.app[REPOS].meetings.read_for_service(meeting.id)
    assert live.status == "live"


async def test_a_panel_open_in_one_process_keeps_its_meeting_from_the_others_idle_end(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    """The idle end asks who has the meeting open; a process sees only its own sockets, so
    each says in attendance that its open panels are still there."""
    first, second = await two_processes(aiohttp_client, settings)
    pair = await make_pair(first.app, "over")
    start = datetime.now(UTC) - timedelta(hours=2)  # it was to end an hour ago
    meeting = await add_meeting(first.app, pair, start)
    db = first.app[DATABASE]
    await db.execute(
        "UPDATE meetings SET status = 'live', started_at = ? WHERE id = ?", (iso(start), meeting.id)
    )
    opened_long_ago = iso(datetime.now(UTC) - timedelta(minutes=settings.idle_end_minutes + 5))

    async def back_date() -> None:  # the panel was opened long ago; nothing was written since
        await db.execute(
            "UPDATE meeting_attendance SET last_seen_at = ? WHERE meeting_id = ?",
            (opened_long_ago, meeting.id),
        )

    ws = await first.ws_connect(f"/ws/meetings/{meeting.id}/events?token={pair.mentee_token}")
    assert (await ws.receive_json()) == {"type": "hello"}
    await back_date()
    assert await end_idle_meetings(first.app) == 0  # open here: kept, and seen now
    assert await end_idle_meetings(second.app) == 0
    assert (await second.app[REPOS].meetings.read_for_service(meeting.id)).status == "live"

    await ws.close()

    async def left() -> bool:
        seen = await db.fetch_value(
            "SELECT MAX(last_seen_at) FROM meeting_attendance WHERE meeting_id = ?", (meeting.id,)
        )
        return len(first.app[WEBSOCKETS]) == 0 and seen > opened_long_ago

    await eventually(left, what="the panel's socket closed and its leaving recorded")
    await back_date()
    assert await end_idle_meetings(second.app) == 1
    assert (await first.app[REPOS].meetings.read_for_service(meeting.id)).status == "ended"
