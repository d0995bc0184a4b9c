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
from sidecar.keys import DATABASE, REPOS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from tests.conftest import ClientFactory, add_meeting, make_pair
from tests.platform_settings import app_of

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
