"""Fixing meetings (issue 14, points 2 and 3): a stray End is refused before the meeting's window,
an empty meeting asks to be cancelled instead, an ended meeting can be reopened and its
corrected summary goes out once more; a past first date is refused, a new series replaces the
old one's upcoming meetings, one meeting can be cancelled (email with an iCalendar CANCEL, the
feed says CANCELLED, reminders dropped), and "next meeting" skips what will not happen.

Email is read at a real SMTP server (aiosmtpd); notes are typed through the real websocket.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient
from icalendar import Calendar

from sidecar import reminders
from sidecar.app import create_app
from sidecar.db.migrations import MIGRATIONS, apply_migrations
from sidecar.domain.ids import iso
from sidecar.keys import DATABASE, REPOS, SETTINGS
from sidecar.meeting_lifecycle import end_idle_meetings
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.notes_client import NotesClient
from tests.platform_settings import needs
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty

Client = TestClient[web.Request, web.Application]


async def mailing(aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer) -> tuple[Client, Pair]:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.1, **smtp.settings())
    client: Client = await aiohttp_client(create_app(settings))
    return client, await make_pair(client.app, "a")


async def write_notes(client: Client, pair: Pair, meeting_id: str, text: str) -> None:
    """The mentee opens the panel's notes and types (this also records them as joined)."""
    assert client.server.port is not None
    url = f"ws://127.0.0.1:{client.server.port}/ws/notes/{meeting_id}?token={pair.mentee_token}"
    notes = await NotesClient(url).connect()
    await asyncio.wait_for(notes.synced.wait(), 30)
    await notes.insert(len(str(notes)), text)
    await eventually(lambda: text in str(notes), what="the notes to take the text")
    await notes.close()


async def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await response.json())["error"]
    return body


# --- ending -------------------------------------------------------------------------------------


async def test_end_is_refused_before_the_window_opens(client: Client, pair: Pair) -> None:
    start = datetime(2026, 12, 1, 14, 0, tzinfo=UTC) + timedelta(days=365 * 3)
    meeting = await add_meeting(client.app, pair, start)
    response = await client.post(f"/api/v1/meetings/{meeting.id}/end", headers=pair.auth())
    assert response.status == 409
    problem = await error(response)
    assert problem["code"] == "too_early"
    local = start.astimezone(ZoneInfo("Europe/Lisbon"))  # the mentor's time zone
    assert problem["message"] == (
        f"This meeting starts on {local.day} {local:%b} at {local:%H:%M} (Europe/Lisbon);"
        f" it can be ended from {local - timedelta(minutes=15):%H:%M}."
    )
    assert (await client.app[REPOS].meetings.get(meeting.id, viewer=pair.mentor_id)).status == (
        "scheduled"
    )
    assert await client.app[DATABASE].fetch_value("SELECT COUNT(*) FROM outbox") == 0

    # From 15 minutes before the start it can be ended.
    soon = await add_meeting(client.app, pair, datetime.now(UTC) + timedelta(minutes=14))
    response = await client.post(
        f"/api/v1/meetings/{soon.id}/end", headers=pair.auth(), json={"even_if_empty": True}
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["status"] == "ended"


async def test_ending_an_empty_meeting_asks_to_cancel_it_instead(
    aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer
) -> None:
    client, pair = await mailing(aiohttp_client, tmp_path, smtp)
    missed = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(hours=3))
    url = f"/api/v1/meetings/{missed.id}/end"
    response = await client.post(url, headers=pair.auth())
    assert response.status == 409
    problem = await error(response)
    assert problem["code"] == "nobody_joined"
    assert "Cancel this meeting instead?" in problem["message"]

    ended = await client.post(url, headers=pair.auth(), json={"even_if_empty": True})
    assert ended.status == 200 and (await ended.json())["status"] == "ended"
    await outbox_empty(client.app[DATABASE])
    assert len(smtp.inbox.messages) == 2, "ending anyway sends the summary"

    # Notes beyond the dated heading, or someone there, and it ends without asking.
    written = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(minutes=20))
    await write_notes(client, pair, written.id, "We talked about the portfolio.\n")
    response = await client.post(f"/api/v1/meetings/{written.id}/end", headers=pair.auth())
    assert response.status == 200, await response.text()


async def test_a_reopened_meeting_sends_its_corrected_summary_once(
    aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer
) -> None:
    client, pair = await mailing(aiohttp_client, tmp_path, smtp)
    db = client.app[DATABASE]
    meeting = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(minutes=30))
    await write_notes(client, pair, meeting.id, "- [ ] Send the portfolio @mentee\n")
    base = f"/api/v1/meetings/{meeting.id}"
    assert (await client.post(base + "/end", headers=pair.auth("mentee"))).status == 200
    await outbox_empty(db)
    assert [m["Subject"].startswith("Summary of") for m in smtp.inbox.messages] == [True, True]

    reopened = await client.post(base + "/reopen", headers=pair.auth("mentor"))
    assert reopened.status == 200, await reopened.text()
    body = await reopened.json()
    assert body["status"] == "live" and body["ended_at"] is None and body["reopen_count"] == 1
    await write_notes(client, pair, meeting.id, "Agreed: we meet on Thursdays\n")

    # Every end signal at once, twice: one corrected summary per person.
    ends = await asyncio.gather(
        client.post(base + "/end", headers=pair.auth("mentee")),
        client.post(base + "/end", headers=pair.auth("mentor")),
    )
    assert [r.status for r in ends] == [200, 200]
    assert (await client.post(base + "/end", headers=pair.auth())).status == 200
    await outbox_empty(db)
    corrected = smtp.inbox.messages[2:]
    assert sorted(str(m["To"]) for m in corrected) == [
        "a Mentee <mentee.a@example.org>",
        "a Mentor <mentor.a@example.org>",
    ]
    for mail in corrected:
        assert str(mail["Subject"]).startswith("Corrected summary of Check-in, ")
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert text.startswith("# Corrected summary: Check-in")
        assert "we meet on Thursdays" in text
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "Corrected summary of your mentoring meeting" in html

    summary = await (await client.get(base + "/summary", headers=pair.auth())).json()
    assert summary["corrected"] is True
    assert "Corrected summary" in summary["body_markdown"]
    assert len(summary["delivery"]) == 2, "the latest email to each person"
    stored = await db.fetch_value(
        "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (meeting.id,)
    )
    assert stored == 1
    steps = await client.app[REPOS].action_items.list(pair.mentorship_id, viewer=pair.mentor_id)
    filed = [s.text for s in steps if s.created_in_meeting_id == meeting.id]
    assert filed.count("Send the portfolio") == 1, "the next step is filed once, not per end"
    search = await db.fetch_value(
        "SELECT COUNT(*) FROM meeting_search WHERE meeting_id = ?", (meeting.id,)
    )
    assert search == 1


async def test_reopening_is_refused_when_not_ended_or_too_late(client: Client, pair: Pair) -> None:
    response = await client.post(f"/api/v1/meetings/{pair.meeting_id}/reopen", headers=pair.auth())
    assert response.status == 409 and (await error(response))["code"] == "not_ended"

    old = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(days=3))
    await client.app[DATABASE].execute(
        "UPDATE meetings SET status = 'ended', ended_at = ? WHERE id = ?",
        (iso(datetime.now(UTC) - timedelta(hours=25)), old.id),
    )
    response = await client.post(f"/api/v1/meetings/{old.id}/reopen", headers=pair.auth())
    assert response.status == 409
    problem = await error(response)
    assert problem["code"] == "reopen_too_late" and "24 hours" in problem["message"]


# --- scheduling ---------------------------------------------------------------------------------


def local_date(days: int, zone: str = "Europe/Lisbon") -> str:
    day = (datetime.now(ZoneInfo(zone)) + timedelta(days=days)).date()
    return f"{day.isoformat()}T14:00"


async def test_a_past_first_date_is_refused_unless_allowed(client: Client, pair: Pair) -> None:
    url = f"/api/v1/mentorships/{pair.mentorship_id}/schedule"
    body = {"first_start": local_date(-19), "timezone": "Europe/Lisbon"}
    response = await client.post(url, headers=pair.auth(), json=body)
    assert response.status == 422
    problem = await error(response)
    assert [f["loc"] for f in problem["fields"]] == ["first_start"]
    assert "in the past" in problem["message"] and "allow_past" in problem["message"]
    assert await client.app[DATABASE].fetch_value("SELECT COUNT(*) FROM meetings") == 1

    allowed = await client.post(url, headers=pair.auth(), json=body | {"allow_past": True})
    assert allowed.status == 201
    meetings = (await allowed.json())["meetings"]
    assert len(meetings) == 12
    # The past ones were never held: "next meeting" is the fixture's, tomorrow, not one of them.
    mine = await (await client.get("/api/v1/me", headers=pair.auth())).json()
    assert [m["next_meeting_id"] for m in mine["mentorships"]] == [pair.meeting_id]


async def test_planning_again_replaces_the_upcoming_meetings_of_the_old_series(
    client: Client, pair: Pair
) -> None:
    url = f"/api/v1/mentorships/{pair.mentorship_id}/schedule"
    first = await client.post(
        url,
        headers=pair.auth(),
        json={"first_start": local_date(-14), "timezone": "Europe/Lisbon", "allow_past": True},
    )
    old = (await first.json())["meetings"]
    repos = client.app[REPOS]
    held = old[0]["id"]
    await client.app[DATABASE].execute("UPDATE meetings SET status = 'ended' WHERE id = ?", (held,))
    upcoming_old = [m for m in old if m["scheduled_start"] > iso(datetime.now(UTC))]
    await repos.agenda.add(
        upcoming_old[0]["id"],
        section="topics",
        text="Carried from last time",
        viewer=pair.mentee_id,
    )

    second = await client.post(
        url,
        headers=pair.auth("mentee"),
        json={"first_start": local_date(3), "timezone": "Europe/Lisbon", "duration_minutes": 30},
    )
    assert second.status == 201, await second.text()
    body = await second.json()
    assert {m["id"] for m in body["replaced"]} == {m["id"] for m in upcoming_old}
    assert {m["status"] for m in body["replaced"]} == {"cancelled"}

    listed = (
        await (
            await client.get(
                f"/api/v1/mentorships/{pair.mentorship_id}/meetings", headers=pair.auth()
            )
        ).json()
    )["meetings"]
    by_status: dict[str, int] = {}
    for m in listed:
        by_status[m["status"]] = by_status.get(m["status"], 0) + 1
    active = [m for m in listed if m["status"] in ("scheduled", "live")]
    upcoming = [m for m in active if m["scheduled_start"] > iso(datetime.now(UTC))]
    assert len(upcoming) == 12 + 1, "the new series and the fixture's single meeting"
    assert (await repos.meetings.get(held, viewer=pair.mentor_id)).status == "ended", "kept"
    new_first = body["meetings"][0]["id"]
    agenda = await repos.agenda.list(new_first, viewer=pair.mentor_id)
    assert "Carried from last time" in [i.text for i in agenda]
    left = await client.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM reminders r JOIN meetings m ON m.id = r.meeting_id"
        " WHERE m.status = 'cancelled' AND r.done_at IS NULL"
    )
    assert left == 0, "the replaced meetings' reminders are dropped"


async def test_cancelling_one_meeting_tells_both_and_their_calendars(
    aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer
) -> None:
    client, pair = await mailing(aiohttp_client, tmp_path, smtp)
    planned = await client.post(
        f"/api/v1/mentorships/{pair.mentorship_id}/schedule",
        headers=pair.auth(),
        json={"first_start": local_date(2), "timezone": "Europe/Lisbon"},
    )
    series = (await planned.json())["meetings"]
    skipped = series[2]
    feed = await (await client.post("/api/v1/me/calendar-feed", headers=pair.auth("mentee"))).json()
    feed_path = "/" + feed["url"].split("/", 3)[3]

    async def feed_event(meeting_id: str) -> Any:
        calendar = Calendar.from_ical(await (await client.get(feed_path)).read())
        uid = f"{meeting_id}@mentor-sidecar"
        return next(e for e in calendar.walk("VEVENT") if str(e["uid"]) == uid)

    before = await feed_event(skipped["id"])
    assert str(before["status"]) == "CONFIRMED"
    await client.post(
        f"/api/v1/meetings/{skipped['id']}/agenda",
        headers=pair.auth("mentee"),
        json={"section": "topics", "text": "Keep me"},
    )

    url = f"/api/v1/meetings/{skipped['id']}/cancel"
    cancelled = await client.post(url, headers=pair.auth("mentee"))
    assert cancelled.status == 200, await cancelled.text()
    body = await cancelled.json()
    assert body["status"] == "cancelled" and body["cancelled_by"] == pair.mentee_id
    assert (await client.post(url, headers=pair.auth("mentor"))).status == 200, "again: no-op"
    await outbox_empty(client.app[DATABASE])

    assert len(smtp.inbox.messages) == 2, "both told, once"
    for address, theirs in (
        ("mentor.a@example.org", "Asia/Tokyo"),
        ("mentee.a@example.org", "Europe/Lisbon"),
    ):
        (mail,) = smtp.inbox.to(address)
        assert str(mail["Subject"]).startswith("Cancelled: Mentoring session, ")
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "cancelled Mentoring session" in text
        assert f" for a ({theirs})." in text, "the other person's clock beside the reader's"
        (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        calendar = Calendar.from_ical(part.get_payload(decode=True))
        assert str(calendar["method"]) == "CANCEL"
        (event,) = calendar.walk("VEVENT")
        assert str(event["uid"]) == str(before["uid"])
        assert int(event["sequence"]) == int(before["sequence"]) + 1
        assert str(event["status"]) == "CANCELLED"
        assert str(event["organizer"]).startswith("mailto:")
        assert {str(a) for a in event["attendee"]} == {
            "mailto:mentor.a@example.org",
            "mailto:mentee.a@example.org",
        }

    after = await feed_event(skipped["id"])
    assert str(after["status"]) == "CANCELLED"
    assert int(after["sequence"]) == int(before["sequence"]) + 1

    repos = client.app[REPOS]
    pending = await client.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM reminders WHERE meeting_id = ? AND done_at IS NULL", (skipped["id"],)
    )
    assert pending == 0, "its reminders are dropped"
    assert [i.text for i in await repos.agenda.list(skipped["id"], viewer=pair.mentor_id)] == [
        "Keep me"
    ], "its agenda is kept"
    # Skipping one keeps the rhythm: the others keep their dates.
    listed = await repos.meetings.list(pair.mentorship_id, viewer=pair.mentor_id)
    by_id = {m.id: m for m in listed}
    for planned_meeting in series:
        if planned_meeting["id"] != skipped["id"]:
            m = by_id[planned_meeting["id"]]
            assert iso(m.scheduled_start) == iso(
                datetime.fromisoformat(planned_meeting["scheduled_start"])
            )
            assert m.status == "scheduled"

    # A cancelled meeting cannot be ended, moved or made to send reminders again.
    ended = await client.post(f"/api/v1/meetings/{skipped['id']}/end", headers=pair.auth())
    assert ended.status == 409 and (await error(ended))["code"] == "cancelled"
    moved = await client.patch(
        f"/api/v1/meetings/{skipped['id']}", headers=pair.auth(), json={"title": "Back on"}
    )
    assert moved.status == 409
    patched = await client.patch(
        f"/api/v1/meetings/{series[3]['id']}", headers=pair.auth(), json={"status": "cancelled"}
    )
    assert patched.status == 422
    agenda = await client.post(f"/api/v1/meetings/{skipped['id']}/agenda/send", headers=pair.auth())
    assert agenda.status == 409 and (await error(agenda))["code"] == "cancelled"
    again = await repos.meetings.get(skipped["id"], viewer=pair.mentor_id)
    await reminders.schedule(repos, again, client.app[SETTINGS])
    assert (
        await client.app[DATABASE].fetch_value(
            "SELECT COUNT(*) FROM reminders WHERE meeting_id = ?", (skipped["id"],)
        )
        == 0
    )


async def test_next_meeting_skips_cancelled_and_missed_meetings(client: Client, pair: Pair) -> None:
    repos = client.app[REPOS]
    missed = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(hours=5))
    assert missed.status == "scheduled"
    me = await (await client.get("/api/v1/me", headers=pair.auth())).json()
    assert me["mentorships"][0]["next_meeting_id"] == pair.meeting_id

    response = await client.post(f"/api/v1/meetings/{pair.meeting_id}/cancel", headers=pair.auth())
    assert response.status == 200
    later = await add_meeting(client.app, pair, datetime.now(UTC) + timedelta(days=8))
    me = await (await client.get("/api/v1/me", headers=pair.auth())).json()
    assert me["mentorships"][0]["next_meeting_id"] == later.id
    upcoming = await repos.meetings.next_for(pair.mentorship_id, after=datetime.now(UTC))
    assert upcoming is not None and upcoming.id == later.id


async def test_a_live_meeting_someone_joined_cannot_be_cancelled(
    aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer
) -> None:
    client, pair = await mailing(aiohttp_client, tmp_path, smtp)
    now = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(minutes=5))
    await write_notes(client, pair, now.id, "Started.\n")
    response = await client.post(f"/api/v1/meetings/{now.id}/cancel", headers=pair.auth())
    assert response.status == 409 and (await error(response))["code"] == "live"


async def test_migration_13_keeps_every_meeting_and_its_rows(tmp_path: Path) -> None:
    """The meetings table is rebuilt (a new CHECK): rows that reference it stay."""
    import aiosqlite

    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA foreign_keys=ON")
        before = [(m.version, m.sqlite) for m in MIGRATIONS if m.version < 13]
        await conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"
        )
        for version, sql in before:
            await conn.executescript(
                f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({version}, 'x');\nCOMMIT;"
            )
        async with conn.execute("PRAGMA table_info(meetings)") as cur:
            old_columns = {row[1] for row in await cur.fetchall()}
        await conn.executescript(
            "INSERT INTO people VALUES ('p', 'P', 'p@x', 'UTC', 'en', '', 't', 't');"
            "INSERT INTO mentorships (id, title, mentor_id, created_by, created_at, updated_by,"
            " updated_at) VALUES ('ms', 'M', 'p', 'p', 't', 'p', 't');"
            "INSERT INTO meetings (id, mentorship_id, title, scheduled_start, scheduled_end,"
            " platform, status, created_by, created_at, updated_by, updated_at) VALUES"
            " ('m', 'ms', 'T', '2026-01-01', '2026-01-02', 'link', 'ended', 'p', 't', 'p', 't');"
            "INSERT INTO agenda_items VALUES ('a', 'm', 'topics', 'x', 0, 0, 'p', 't', 'p', 't');"
            "INSERT INTO summaries VALUES ('m', 'body', NULL, 't', NULL, 't');"
        )
        assert await apply_migrations(conn) == [m.version for m in MIGRATIONS if m.version >= 13]
        async with conn.execute("PRAGMA table_info(meetings)") as cur:
            new_columns = {row[1] for row in await cur.fetchall()}
        assert old_columns <= new_columns, "a column added to meetings before 13 was dropped"
        async with conn.execute("SELECT COUNT(*) FROM agenda_items") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]
        async with conn.execute("SELECT revision FROM summaries") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]
        async with conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1, "foreign keys are on again"  # type: ignore[index]
        await conn.execute("UPDATE meetings SET status = 'cancelled'")


@needs("zoom")
async def test_platform_end_signals_leave_a_meeting_not_yet_live_alone(
    client: Client, pair: Pair
) -> None:
    """The Zoom App's "ended" (and Jitsi's hang-up) for a call long before the meeting."""
    early = await add_meeting(client.app, pair, datetime.now(UTC) + timedelta(days=19))
    zoom = await client.post(f"/api/v1/meetings/{early.id}/zoom-ended", headers=pair.auth())
    assert zoom.status == 200 and (await zoom.json())["ended"] is False
    meeting = await client.app[REPOS].meetings.get(early.id, viewer=pair.mentor_id)
    assert meeting.status == "scheduled" and meeting.ended_at is None
    count = await client.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (early.id,)
    )
    assert count == 0


async def test_opening_a_missed_meetings_panel_does_not_start_it(
    aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer
) -> None:
    """A look at a meeting whose time passed unheld leaves it scheduled: the idle check then has
    nothing to end, and no summary of nothing goes out."""
    client, pair = await mailing(aiohttp_client, tmp_path, smtp)
    missed = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(hours=3))
    await write_notes(client, pair, missed.id, "Looked at it afterwards.\n")
    repos = client.app[REPOS]
    assert (await repos.meetings.get(missed.id, viewer=pair.mentor_id)).status == "scheduled"
    assert await end_idle_meetings(client.app) == 0
    assert await client.app[DATABASE].fetch_value("SELECT COUNT(*) FROM summaries") == 1  # fixture
