"""The smaller points of the panel's issue, on the service's side: "Send again" on the agenda is
limited per meeting, and what is carried over to the next meeting (search: tests/test_search.py).
Real SQLite, real SMTP server, notes typed through the real websocket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.keys import DATABASE, REPOS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.notes_client import NotesClient
from tests.smtp_server import SmtpServer


async def started(tmp_path: Path, smtp: SmtpServer, **extra: object) -> TestServer:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.1, **smtp.settings(), **extra)  # type: ignore[arg-type]
    server = TestServer(create_app(settings))
    await server.start_server()
    return server


async def type_notes(server: TestServer, pair: Pair, meeting_id: str, text: str) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws/notes/{meeting_id}?token={pair.mentee_token}"
    client = await NotesClient(url).connect()
    await asyncio.wait_for(client.synced.wait(), 5)
    await client.insert(len(str(client)), text)
    await client.close()


async def test_send_again_at_most_once_every_few_minutes(tmp_path: Path, smtp: SmtpServer) -> None:
    server = await started(tmp_path, smtp, agenda_resend_minutes=5)
    pair = await make_pair(server.app, "a")
    url = f"http://127.0.0.1:{server.port}/api/v1/meetings/{pair.meeting_id}/agenda/send"
    async with aiohttp.ClientSession(headers=pair.auth("mentee")) as session:
        first = await session.post(url)
        assert first.status == 200, await first.text()
        # A burst, as the API fuzzer sent: one more email at most, never dozens.
        burst = await asyncio.gather(*(session.post(url) for _ in range(12)))
        assert [r.status for r in burst] == [429] * 12
        refused = burst[0]
        wait = int(refused.headers["Retry-After"])
        assert 240 < wait <= 300
        body = await refused.json()
        assert body["error"]["status"] == 429
        assert "again in 5 min" in body["error"]["message"]
        # The other person is limited by the same meeting's clock.
        other = await session.post(url, headers=pair.auth("mentor"))
        assert other.status == 429
    agendas = await server.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'agenda' AND meeting_id = ?", (pair.meeting_id,)
    )
    assert agendas == 1
    await server.close()

    # Set to 0, there is no limit.
    unlimited = await started(tmp_path / "b", smtp, agenda_resend_minutes=0)
    pair = await make_pair(unlimited.app, "b")
    url = f"http://127.0.0.1:{unlimited.port}/api/v1/meetings/{pair.meeting_id}/agenda/send"
    async with aiohttp.ClientSession(headers=pair.auth("mentee")) as session:
        for _ in range(2):
            assert (await session.post(url)).status == 200
    await unlimited.close()


async def test_an_unticked_success_is_not_carried_over(tmp_path: Path, smtp: SmtpServer) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    repos = server.app[REPOS]
    today = await add_meeting(server.app, pair, datetime.now(UTC) - timedelta(minutes=30))
    for section, text in (
        ("successes", "Shipped the onboarding flow"),
        ("challenges", "Time zones are hard"),
        ("topics", "Not reached today"),
        ("goal_progress", "Critique goal: on track"),
    ):
        await repos.agenda.add(today.id, section=section, text=text, viewer=pair.mentee_id)
    await end_meeting(server.app, today.id, source="panel", actor=pair.mentor_id)
    # The fixture's own meeting, tomorrow, is the next one.
    carried = await repos.agenda.list(pair.meeting_id, viewer=pair.mentor_id)
    texts = {(i.section, i.text) for i in carried}
    assert ("topics", "Not reached today") in texts
    assert ("challenges", "Time zones are hard") in texts
    assert not any(t == "Shipped the onboarding flow" for _, t in texts)
    assert not any(t == "Critique goal: on track" for _, t in texts)
    summary = await repos.summaries.get(today.id, viewer=pair.mentor_id)
    carried_part = summary.body_markdown.split("Carried over to next time", 1)[1]
    assert "Not reached today" in carried_part
    assert "Shipped the onboarding flow" not in carried_part
    await server.close()


async def test_mentorship_events_reach_the_agreement_page(tmp_path: Path, smtp: SmtpServer) -> None:
    """The agreement page's socket hears agreement and schedule changes, even with no meeting
    open anywhere, and opening it is no one's attendance."""
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    base = f"127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(
            f"ws://{base}/ws/mentorships/{pair.mentorship_id}/events?token={pair.mentee_token}"
        )
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        response = await session.patch(
            f"http://{base}/api/v1/mentorships/{pair.mentorship_id}/agreement",
            json={"objectives": "Lead a design critique by March"},
            headers=pair.auth("mentor"),
        )
        assert response.status == 200, await response.text()
        event = await ws.receive_json(timeout=5)
        assert event == {"type": "agreement", "by": pair.mentor_id}
        start = datetime.now(UTC) + timedelta(days=3)
        moved = await session.patch(
            f"http://{base}/api/v1/meetings/{pair.meeting_id}",
            json={
                "scheduled_start": start.isoformat(),
                "scheduled_end": (start + timedelta(hours=1)).isoformat(),
            },
            headers=pair.auth("mentor"),
        )
        assert moved.status == 200, await moved.text()
        assert (await ws.receive_json(timeout=5))["type"] == "meeting"
        seen = await server.app[DATABASE].fetch_value(
            "SELECT COUNT(*) FROM meeting_attendance WHERE person_id = ?", (pair.mentee_id,)
        )
        assert seen == 0
        await ws.close()

        # Someone else's mentorship: refused before the upgrade.
        other = await make_pair(server.app, "b")
        refused = (
            f"ws://{base}/ws/mentorships/{pair.mentorship_id}/events?token={other.mentee_token}"
        )
        try:
            await session.ws_connect(refused)
            raise AssertionError("a stranger's socket was accepted")
        except aiohttp.WSServerHandshakeError as error:
            assert error.status == 403
    await server.close()
