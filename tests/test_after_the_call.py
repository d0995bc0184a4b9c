"""After the call: one summary per meeting and one email per person, however the end arrives.

Emails are read at a real SMTP server (aiosmtpd); notes are typed through the real websocket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.domain.ids import iso
from sidecar.keys import DATABASE, REPOS
from sidecar.meeting_lifecycle import end_idle_meetings, end_meeting
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.notes_client import NotesClient
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty

NOTES = (
    "Talked about preparing people before a critique.\n"
    "Agreed: we meet on Tuesdays at 14:30 Lisbon from December\n"
    "- [ ] Send the draft to Ana @mentee by 2031-12-03\n"
    "- [ ] Share two articles @mentor\n"
)


async def started(tmp_path: Path, smtp: SmtpServer, **extra: object) -> TestServer:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.1, **smtp.settings(), **extra)  # type: ignore[arg-type]
    server = TestServer(create_app(settings))
    await server.start_server()
    return server


async def todays_meeting(server: TestServer, pair: Pair) -> str:
    """A meeting that started half an hour ago (the fixture's own one already has a summary)."""
    start = datetime.now(UTC) - timedelta(minutes=30)
    return (await add_meeting(server.app, pair, start, title="Check-in")).id


async def hold_meeting(server: TestServer, pair: Pair, meeting_id: str) -> str:
    """Both join the notes, the mentee types; returns the next meeting's id."""
    app = server.app
    nxt = await add_meeting(app, pair, datetime.now(UTC) + timedelta(days=7), title="Next one")
    await app[REPOS].agenda.add(
        meeting_id, section="topics", text="Not reached today", viewer=pair.mentee_id
    )
    url = f"ws://127.0.0.1:{server.port}/ws/notes/{meeting_id}?token="
    mentor = await NotesClient(url + pair.mentor_token).connect()
    mentee = await NotesClient(url + pair.mentee_token).connect()
    for client in (mentor, mentee):
        await asyncio.wait_for(client.synced.wait(), 30)
    await mentee.insert(len(str(mentee)), NOTES)
    await mentor.wait_for(lambda: "articles" in str(mentor))
    await mentor.close()
    await mentee.close()
    return nxt.id


async def test_ending_twice_at_once_sends_one_summary_to_each(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    meeting_id = await todays_meeting(server, pair)
    next_id = await hold_meeting(server, pair, meeting_id)
    headers = pair.auth("mentee")
    async with aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{server.port}/api/v1/meetings/{meeting_id}"
        responses = await asyncio.gather(
            session.post(base + "/end", headers=headers),
            session.post(base + "/end", headers=pair.auth("mentor")),
            end_meeting(server.app, meeting_id, source="idle", actor=None),
        )
        assert [r.status for r in responses[:2]] == [200, 200]
        assert (await responses[0].json())["status"] == "ended"
        await eventually(lambda: len(smtp.inbox.messages) >= 2)
        await outbox_empty(server.app[DATABASE])  # the counts below are final
        assert len(smtp.inbox.to("mentor.a@example.org")) == 1
        assert len(smtp.inbox.to("mentee.a@example.org")) == 1

        mail = smtp.inbox.to("mentee.a@example.org")[0]
        assert mail["Subject"].startswith("Summary of Check-in, ")
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "we meet on Tuesdays at 14:30 Lisbon from December" in text
        assert "Send the draft to Ana (a Mentee, by 3 Dec 2031)" in text, "the year: not this one"
        assert "Share two articles (a Mentor)" in text
        assert "## Carried over to next time\n- Not reached today" in text.replace("\r", "")
        assert "Asia/Tokyo" in text, "in the reader's time zone"
        kinds = {part.get_content_type() for part in mail.walk()}
        assert {"text/plain", "text/html", "text/calendar"} <= kinds

        summary = await (await session.get(base + "/summary", headers=headers)).json()
        assert "Agreements" in summary["body_markdown"]
    repos = server.app[REPOS]
    steps = await repos.action_items.list(pair.mentorship_id, viewer=pair.mentor_id, status="open")
    assert {s.text for s in steps} >= {"Send the draft to Ana", "Share two articles"}
    # The next meeting is the fixture's, tomorrow; the later one gets nothing.
    carried = await repos.agenda.list(pair.meeting_id, viewer=pair.mentor_id)
    assert "Not reached today" in [i.text for i in carried]
    assert await repos.agenda.list(next_id, viewer=pair.mentor_id) == []
    await server.close()

    again = await started(tmp_path, smtp)
    assert (
        await end_meeting(again.app, pair.meeting_id, source="panel", actor=pair.mentor_id) is False
    )
    await outbox_empty(again.app[DATABASE])
    assert len(smtp.inbox.messages) == 2, "no second summary after a restart"
    await again.close()


async def test_the_summary_arrives_once_the_smtp_server_is_back(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse = True
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    meeting_id = await todays_meeting(server, pair)
    assert await end_meeting(server.app, meeting_id, source="panel", actor=pair.mentee_id)
    async with aiohttp.ClientSession(headers=pair.auth()) as session:
        url = f"http://127.0.0.1:{server.port}/api/v1/meetings/{meeting_id}/summary"

        async def states() -> set[str]:
            return {d["state"] for d in (await (await session.get(url)).json())["delivery"]}

        async def all_retrying() -> bool:
            return await states() == {"retrying"}

        await eventually(all_retrying, what="both emails to be refused once")
        smtp.inbox.refuse = False
        await eventually(lambda: len(smtp.inbox.messages) == 2)

        async def all_sent() -> bool:
            return await states() == {"sent"}

        await eventually(all_sent, what="both emails recorded as sent")
    await server.close()


async def test_a_meeting_nobody_has_open_after_its_end_is_ended(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp, idle_end_minutes=10)
    pair = await make_pair(server.app, "a")
    db = server.app[DATABASE]
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    held = await add_meeting(server.app, pair, two_hours_ago)
    await db.execute("UPDATE meetings SET status = 'live' WHERE id = ?", (held.id,))
    seen = iso(two_hours_ago + timedelta(minutes=50))
    await db.execute(
        "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at)"
        " VALUES (?, ?, ?, ?)",
        (held.id, pair.mentee_id, seen, seen),
    )
    assert await end_idle_meetings(server.app) == 1
    assert await end_idle_meetings(server.app) == 0
    await eventually(lambda: len(smtp.inbox.messages) == 2)
    await server.close()


async def test_draft_search_and_export(tmp_path: Path, smtp: SmtpServer) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    meeting_id = await todays_meeting(server, pair)
    await hold_meeting(server, pair, meeting_id)
    base = f"http://127.0.0.1:{server.port}/api/v1"
    async with aiohttp.ClientSession(headers=pair.auth("mentor")) as session:
        draft = await (await session.get(f"{base}/meetings/{meeting_id}/summary/draft")).json()
        assert "we meet on Tuesdays" in draft["body_markdown"]
        assert "Europe/Lisbon" in draft["body_markdown"], "in the reader's own time zone"
        repos = server.app[REPOS]
        steps = await repos.action_items.list(pair.mentorship_id, viewer=pair.mentor_id)
        assert len(steps) == 1, "a draft files nothing"

        await end_meeting(server.app, meeting_id, source="panel", actor=pair.mentor_id)
        url = f"{base}/mentorships/{pair.mentorship_id}/search"
        hits = (await (await session.get(url, params={"q": "critique Tuesdays"})).json())["hits"]
        assert [h["meeting_id"] for h in hits] == [meeting_id]
        assert "**" in hits[0]["snippet"]
        for odd in ('"unbalanced', "NEAR(", "title:x OR", "*"):
            response = await session.get(url, params={"q": odd})
            assert response.status == 200, odd
        assert (await session.get(url, params={"q": ""})).status == 422

        export = await session.get(f"{base}/mentorships/{pair.mentorship_id}/export.md")
        text = await export.text()
        assert export.content_type == "text/markdown"
        assert "## Our agreement" in text and "Send the draft to Ana" in text
    await server.close()


async def test_search_never_shows_another_pairs_meetings(tmp_path: Path, smtp: SmtpServer) -> None:
    server = await started(tmp_path, smtp)
    pair, other = await make_pair(server.app, "a"), await make_pair(server.app, "b")
    meeting_id = await todays_meeting(server, pair)
    await hold_meeting(server, pair, meeting_id)
    await end_meeting(server.app, meeting_id, source="panel", actor=pair.mentor_id)
    async with aiohttp.ClientSession(headers=other.auth()) as session:
        url = f"http://127.0.0.1:{server.port}/api/v1/mentorships/{other.mentorship_id}/search"
        assert (await (await session.get(url, params={"q": "critique"})).json())["hits"] == []
        url = url.replace(other.mentorship_id, pair.mentorship_id)
        assert (await session.get(url, params={"q": "critique"})).status == 404
    await server.close()


async def test_agreements_and_next_steps_added_in_the_panel_are_in_the_summary(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    meeting_id = await todays_meeting(server, pair)
    await hold_meeting(server, pair, meeting_id)
    base = f"http://127.0.0.1:{server.port}/api/v1"
    async with aiohttp.ClientSession(headers=pair.auth("mentor")) as session:
        await session.post(
            f"{base}/mentorships/{pair.mentorship_id}/action-items",
            json={
                "text": "Book the critique room",
                "owner_id": pair.mentee_id,
                "due_date": "2031-12-01",
                "created_in_meeting_id": meeting_id,
            },
        )
        agreed = await session.post(
            f"{base}/meetings/{meeting_id}/agreements", json={"text": "Feedback in writing"}
        )
        assert agreed.status == 201
        bad = await session.post(f"{base}/meetings/{meeting_id}/agreements", json={"text": ""})
        assert bad.status == 422 and (await bad.json())["error"]["fields"][0]["loc"] == "text"
        await session.post(f"{base}/meetings/{meeting_id}/end")
        summary = await (await session.get(f"{base}/meetings/{meeting_id}/summary")).json()
    text = summary["body_markdown"]
    assert "Book the critique room (a Mentee, by 1 Dec 2031)" in text, "added in the panel"
    assert "Send the draft to Ana" in text, "written in the notes"
    assert "- Feedback in writing" in text and "- we meet on Tuesdays" in text, "both sources"
    await server.close()
