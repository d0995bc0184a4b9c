"""Exactly once: a meeting's end signalled from every source at once (End meeting in the panel,
the Zoom App's onMeeting ended, Zoom's meeting.ended webhook re-sent, the Jitsi iframe's
readyToClose, Prosody's room/destroyed, the idle check), with the service restarted in between,
gives one summary per meeting and one email per person at a real SMTP server (aiosmtpd).

Zoom's and Jitsi's servers cannot be reached from here: the webhook bodies are built from their
documented shapes and signed as they sign them (tests/test_zoom_support.py,
tests/test_jitsi_events.py say which documents).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar.db import open_database
from sidecar.keys import DATABASE
from sidecar.meeting_lifecycle import end_idle_meetings
from tests.conftest import Pair, add_meeting, make_pair
from tests.platform_settings import Configured, app_of, configured, needs
from tests.smtp_server import SmtpServer
from tests.test_jitsi_events import BEARER, occupant, room_destroyed
from tests.test_zoom_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_SECRET,
    meeting_ended,
    signed_webhook,
)
from tests.waiting import eventually

pytestmark = needs("zoom", "jitsi")

MEETINGS = 4
ROUNDS = 3  # bursts of every signal, with a restart after each


def settings(data_dir: Path, smtp: SmtpServer) -> Configured:
    return configured(
        data_dir=data_dir,
        zoom_client_id=CLIENT_ID,
        zoom_client_secret=CLIENT_SECRET,
        zoom_webhook_secret=WEBHOOK_SECRET,
        jitsi_base_url="https://meet.example.org",
        jitsi_app_id="mentor-sidecar",
        jitsi_app_secret="a-jitsi-app-secret-of-32-bytes-or-more",
        jitsi_event_secret="event-secret",
        idle_end_minutes=0,
        outbox_poll_seconds=0.1,
        **smtp.settings(),
    )


async def every_signal(
    server: TestServer, pair: Pair, meeting_id: str, room: str, number: str
) -> list[int]:
    """Fire every kind of end at once; the HTTP statuses, for a sanity check."""
    origin = str(server.make_url("")).rstrip("/")
    raw, zoom_headers = signed_webhook(meeting_ended(number, f"uuid-{number}=="))
    now = int(time.time())
    destroyed = room_destroyed(
        room, now - 1800, now, [occupant(pair, "mentor", now - 1700, now - 5)]
    )
    async with aiohttp.ClientSession(origin) as http:

        async def status(method: str, path: str, **kwargs: Any) -> int:
            async with http.request(method, path, **kwargs) as response:
                await response.read()
                return response.status

        calls = [
            status("POST", f"/api/v1/meetings/{meeting_id}/end", headers=pair.auth("mentor")),
            status("POST", f"/api/v1/meetings/{meeting_id}/end", headers=pair.auth("mentee")),
            status(
                "POST", f"/api/v1/meetings/{meeting_id}/zoom-ended", headers=pair.auth("mentee")
            ),
            status("POST", "/zoom/webhook", data=raw, headers=zoom_headers),
            status("POST", "/zoom/webhook", data=raw, headers=zoom_headers),  # Zoom re-sends
            status(
                "POST",
                f"/api/v1/meetings/{meeting_id}/jitsi/events",
                json={"type": "readyToClose"},
                headers=pair.auth("mentor"),
            ),
            status("POST", "/jitsi/events/room/destroyed", json=destroyed, headers=BEARER),
            status("POST", "/jitsi/events/room/destroyed", json=destroyed, headers=BEARER),
        ]
        statuses = await asyncio.gather(*calls, end_idle_meetings(server.app))
    return [s for s in statuses if isinstance(s, int) and s >= 100]


async def test_every_source_at_once_with_restarts_sends_one_summary(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    data_dir = tmp_path / "data"
    server = TestServer(app_of(settings(data_dir, smtp)))
    await server.start_server()
    pair = await make_pair(server.app, "Once")
    meetings: list[tuple[str, str, str]] = []
    for n in range(MEETINGS):
        start = datetime.now(UTC) - timedelta(minutes=70 + n)  # over, so the idle check may end it
        meeting = await add_meeting(server.app, pair, start, title=f"Meeting {n}")
        await server.app[DATABASE].execute(
            "UPDATE meetings SET status = 'live', started_at = ? WHERE id = ?",
            (start.isoformat(), meeting.id),
        )
        number = str(85746065430 + n)
        async with aiohttp.ClientSession(str(server.make_url("")).rstrip("/")) as http:
            linked = await http.put(
                f"/api/v1/mentorships/{pair.mentorship_id}/zoom-meeting",
                json={"zoom_meeting_id": number, "meeting_uuid": f"uuid-{number}=="},
                headers=pair.auth("mentor"),
            )
            assert linked.status < 300, await linked.text()
            jitsi = await http.get(f"/api/v1/meetings/{meeting.id}/jitsi", headers=pair.auth())
            room = (await jitsi.json())["room_name"]
        meetings.append((meeting.id, room, number))

    for round_ in range(ROUNDS):
        bursts = [every_signal(server, pair, *m) for m in meetings]
        for statuses in await asyncio.gather(*bursts):
            assert all(s < 500 for s in statuses), statuses
        # Restart mid-flight: the Zoom worker, the outbox and the idle check pick up after it.
        await server.close()
        server = TestServer(app_of(settings(data_dir, smtp)))
        await server.start_server()
        print(f"round {round_}: signals sent for {len(meetings)} meetings, restarted")

    db = server.app[DATABASE]

    async def delivered() -> bool:
        unsent = await db.fetch_value(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'summary' AND sent_at IS NULL"
        )
        pending = await db.fetch_value(
            "SELECT COUNT(*) FROM zoom_events WHERE processed_at IS NULL"
        )
        return unsent == 0 and pending == 0

    # Once nothing is pending, nothing more can arrive: the counts below are final.
    await eventually(delivered, what="every summary sent and every Zoom event processed")
    await server.close()

    for meeting_id, _, _ in meetings:
        stored = await _count(data_dir, meeting_id, smtp)
        assert stored == 1, f"{meeting_id}: {stored} summaries stored"
    subjects = Counter(
        (str(m["To"]), str(m["Subject"]))
        for m in smtp.inbox.messages
        if str(m["Subject"]).startswith("Summary of")
    )
    assert len(subjects) == MEETINGS * 2, sorted(subjects)
    assert set(subjects.values()) == {1}, subjects.most_common(3)
    print(
        f"{MEETINGS} meetings x {ROUNDS} bursts of 9 end signals: {sum(subjects.values())} emails"
    )


async def _count(data_dir: Path, meeting_id: str, smtp: SmtpServer) -> int:
    """Read after the service stopped, from the database itself (SQLite or PostgreSQL)."""
    db = await open_database(settings(data_dir, smtp).settings)
    try:
        value = await db.fetch_value(
            "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (meeting_id,)
        )
    finally:
        await db.close()
    return int(value)
