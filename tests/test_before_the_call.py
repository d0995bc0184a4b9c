"""Before the call: the agreement both confirm, a tapering schedule in everyone's calendar, the
agenda sent ahead, and reminders that go out once. Email is read from a real SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar

from sidecar import reminders
from sidecar.app import create_app
from sidecar.keys import DATABASE, OUTBOX, REPOS, SETTINGS
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty

Client = TestClient[web.Request, web.Application]


async def mailing_client(
    aiohttp_client: object, tmp_path: Path, smtp: SmtpServer, **extra: object
) -> Client:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.1, **smtp.settings(), **extra)  # type: ignore[arg-type]
    return await aiohttp_client(create_app(settings))  # type: ignore[operator, no-any-return]


async def test_both_confirm_the_agreement_and_a_change_asks_again(
    client: Client, pair: Pair
) -> None:
    url = f"/api/v1/mentorships/{pair.mentorship_id}/agreement"
    for who in ("mentor", "mentee"):
        agreement = await (await client.post(url + "/confirm", headers=pair.auth(who))).json()
    assert agreement["confirmed_by_both"] is True
    assert {c["person_id"] for c in agreement["confirmations"]} == {pair.mentor_id, pair.mentee_id}

    same = await (await client.patch(url, headers=pair.auth(), json={"confidentiality": ""})).json()
    assert same["version"] == 1 and same["confirmed_by_both"], "saving without a change keeps it"
    changed = await client.patch(url, headers=pair.auth(), json={"objectives": "Lead a critique"})
    body = await changed.json()
    assert body["version"] == 2 and body["confirmations"] == [] and not body["confirmed_by_both"]
    assert body["updated_by"] == pair.mentor_id


async def test_revisiting_the_agreement_is_offered_every_few_meetings(
    client: Client, pair: Pair
) -> None:
    url = f"/api/v1/mentorships/{pair.mentorship_id}/agreement"
    for who in ("mentor", "mentee"):
        await client.post(url + "/confirm", headers=pair.auth(who))
    repos = client.app[REPOS]
    for i in range(4):
        start = datetime.now(UTC) + timedelta(days=i + 2)
        meeting = await add_meeting(client.app, pair, start)
        assert not (await (await client.get(url, headers=pair.auth())).json())["revisit_due"]
        await repos.meetings.update(meeting.id, {"status": "ended"}, viewer=pair.mentor_id)
    assert (await (await client.get(url, headers=pair.auth())).json())["revisit_due"]


async def test_a_tapering_schedule_keeps_its_local_time_across_summer_time(
    client: Client, pair: Pair
) -> None:
    response = await client.post(
        f"/api/v1/mentorships/{pair.mentorship_id}/schedule",
        headers=pair.auth("mentee"),
        json={
            "first_start": "2031-03-11T14:00",
            "timezone": "Europe/Lisbon",
            "duration_minutes": 30,
        },
    )
    assert response.status == 201, await response.text()
    meetings = (await response.json())["meetings"]
    starts = [datetime.fromisoformat(m["scheduled_start"]) for m in meetings]
    lisbon = [s.astimezone(ZoneInfo("Europe/Lisbon")) for s in starts]
    gaps = [(b.date() - a.date()).days for a, b in pairwise(lisbon)]
    assert gaps == [7] * 5 + [14] * 6, "weekly for six meetings, then every two weeks"
    assert {(t.hour, t.minute) for t in lisbon} == {(14, 0)}, "14:00 in Lisbon before and after DST"
    assert {s.hour for s in starts} == {13, 14}, "so the UTC hour moves"
    reminder_rows = await client.app[DATABASE].fetch_value("SELECT COUNT(*) FROM reminders")
    assert reminder_rows == 12 * 3, "agenda-due for the mentee, starting-soon for both"


async def test_invalid_schedules_are_refused_with_the_field_named(
    client: Client, pair: Pair
) -> None:
    url = f"/api/v1/mentorships/{pair.mentorship_id}/schedule"
    cases = [
        ({"first_start": "2031-03-11T14:00+01:00", "timezone": "Europe/Lisbon"}, "first_start"),
        ({"first_start": "2031-03-11T14:00", "timezone": "Moon/Base"}, "timezone"),
        ({"first_start": "2031-03-11T14:00", "timezone": "UTC", "phases": []}, "phases"),
        (
            {
                "first_start": "2031-03-11T14:00",
                "timezone": "UTC",
                "phases": [{"every_weeks": 0, "count": 3}],
            },
            "phases.0.every_weeks",
        ),
    ]
    for body, loc in cases:
        response = await client.post(url, headers=pair.auth(), json=body)
        assert response.status == 422
        assert loc in [f["loc"] for f in (await response.json())["error"]["fields"]], body


async def test_each_person_gets_a_private_calendar_that_follows_moves(
    client: Client, pair: Pair, other_pair: Pair
) -> None:
    feed = await (await client.post("/api/v1/me/calendar-feed", headers=pair.auth("mentee"))).json()
    path = "/" + feed["url"].split("/", 3)[3]
    response = await client.get(path)
    assert response.status == 200 and response.content_type == "text/calendar"
    calendar = Calendar.from_ical(await response.read())
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"{pair.meeting_id}@mentor-sidecar"]
    assert "Asia/Tokyo" in [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")]
    assert events[0]["dtstart"].params["TZID"] == "Asia/Tokyo"
    assert "Mentor" in str(events[0]["summary"])  # "Check-in with a Mentor"
    assert other_pair.meeting_id not in (await response.text())

    new_start = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    await client.patch(
        f"/api/v1/meetings/{pair.meeting_id}",
        headers=pair.auth(),
        json={
            "scheduled_start": new_start.isoformat(),
            "scheduled_end": (new_start + timedelta(hours=1)).isoformat(),
        },
    )
    moved = next(iter(Calendar.from_ical(await (await client.get(path)).read()).walk("VEVENT")))
    assert moved["dtstart"].dt == new_start.astimezone(ZoneInfo("Asia/Tokyo"))
    assert int(moved["sequence"]) == 1

    await client.post("/api/v1/me/calendar-feed", headers=pair.auth("mentee"))
    assert (await client.get(path)).status == 404, "a new link replaces the old one"


def on_their_clock(at: datetime, mine: str, theirs: str, name: str) -> str:
    """What an email adds after the reader's time: the other person's, their day if it differs."""
    here, there = at.astimezone(ZoneInfo(mine)), at.astimezone(ZoneInfo(theirs))
    shown = f"{there:%H:%M}"
    if here.date() != there.date():
        shown = f"{there:%a} {there.day} {there:%b} {shown}"
    return f"; {shown} for {name} ({theirs})"


async def test_the_mentee_sends_the_agenda_with_last_times_next_steps(
    aiohttp_client: object, tmp_path: Path, smtp: SmtpServer
) -> None:
    client = await mailing_client(aiohttp_client, tmp_path, smtp)
    pair = await make_pair(client.app, "a")
    start = datetime.now(UTC) + timedelta(days=7)
    nxt = await add_meeting(client.app, pair, start, title="Second", by=pair.mentee_id)
    agenda = await (
        await client.get(f"/api/v1/meetings/{nxt.id}/agenda", headers=pair.auth("mentee"))
    ).json()
    assert [a["text"] for a in agenda["carried_over"]] == ["Send the draft"]
    await client.post(
        f"/api/v1/meetings/{nxt.id}/agenda",
        headers=pair.auth("mentee"),
        json={"section": "successes", "text": "Shipped the redesign"},
    )

    sent = await client.post(f"/api/v1/meetings/{nxt.id}/agenda/send", headers=pair.auth("mentee"))
    assert sent.status == 200
    assert (await sent.json())["agenda_sent_at"] is not None
    await eventually(lambda: len(smtp.inbox.messages) == 1)
    mail = smtp.inbox.messages[0]
    assert "mentor.a@example.org" in mail["To"] and mail["Subject"].startswith("Agenda: Second")
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Send the draft" in body and "still open" in body and "Shipped the redesign" in body
    assert "Europe/Lisbon" in body, "the time is given in the recipient's time zone"
    assert on_their_clock(nxt.scheduled_start, "Europe/Lisbon", "Asia/Tokyo", "a") in body, body
    # The HTML part is laid out as the summary is: title, button, a headed list per section.
    page = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<meta name="color-scheme" content="light dark">' in page
    assert ">Second</h1>" in page and ">Open the meeting panel</a>" in page
    assert ">Successes</h2>" in page and ">Shipped the redesign</li>" in page


def reminder_settings(tmp_path: Path, smtp: SmtpServer, starting_soon_minutes: int) -> Settings:
    """Reminders handled only when the test calls send_due (the background round waits an hour)."""
    return Settings(
        data_dir=tmp_path,
        outbox_poll_seconds=0.1,
        reminders_poll_seconds=3600,
        starting_soon_minutes=starting_soon_minutes,
        **smtp.settings(),
    )


async def test_reminders_go_out_once_even_across_a_restart(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    settings = reminder_settings(tmp_path, smtp, starting_soon_minutes=30)
    server = TestServer(create_app(settings))
    await server.start_server()
    pair = await make_pair(server.app, "a")
    repos = server.app[REPOS]
    soon = datetime.now(UTC) + timedelta(minutes=20)
    meeting = await repos.meetings.update(
        pair.meeting_id,
        {"scheduled_start": soon, "scheduled_end": soon + timedelta(minutes=45)},
        viewer=pair.mentor_id,
    )
    await reminders.schedule(repos, meeting, settings)
    results = await asyncio.gather(
        *[reminders.send_due(repos, server.app[OUTBOX], settings) for _ in range(3)]
    )
    assert sum(results) == 3, "agenda due for the mentee, starting soon for both"
    await eventually(lambda: len(smtp.inbox.messages) == 3)
    await server.close()

    again = TestServer(create_app(settings))
    await again.start_server()
    assert await reminders.send_due(again.app[REPOS], again.app[OUTBOX], again.app[SETTINGS]) == 0
    await outbox_empty(again.app[DATABASE])
    subjects = sorted(str(m["Subject"]).split(":")[0] for m in smtp.inbox.messages)
    assert subjects == ["Agenda due", "Starting soon", "Starting soon"]
    assert len(smtp.inbox.to("mentee.a@example.org")) == 2
    # Each says when on the reader's clock, and on the other person's beside it.
    for address, mine, theirs in (
        ("mentor.a@example.org", "Europe/Lisbon", "Asia/Tokyo"),
        ("mentee.a@example.org", "Asia/Tokyo", "Europe/Lisbon"),
    ):
        for mail in smtp.inbox.to(address):
            body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert on_their_clock(meeting.scheduled_start, mine, theirs, "a") in body, body
    await again.close()


async def test_two_services_on_one_database_send_each_reminder_once(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    settings = reminder_settings(tmp_path, smtp, starting_soon_minutes=30)
    one, two = TestServer(create_app(settings)), TestServer(create_app(settings))
    await one.start_server()
    await two.start_server()
    pair = await make_pair(one.app, "a")
    soon = datetime.now(UTC) + timedelta(minutes=20)
    meeting = await one.app[REPOS].meetings.update(
        pair.meeting_id,
        {"scheduled_start": soon, "scheduled_end": soon + timedelta(minutes=45)},
        viewer=pair.mentor_id,
    )
    await reminders.schedule(one.app[REPOS], meeting, settings)
    rounds = [
        reminders.send_due(server.app[REPOS], server.app[OUTBOX], settings)
        for server in (one, two, one, two)
    ]
    assert sum(await asyncio.gather(*rounds)) == 3
    await outbox_empty(one.app[DATABASE])
    subjects = sorted(str(m["Subject"]).split(":")[0] for m in smtp.inbox.messages)
    assert subjects == ["Agenda due", "Starting soon", "Starting soon"]
    await one.close()
    await two.close()


async def test_no_agenda_reminder_once_the_agenda_is_sent(tmp_path: Path, smtp: SmtpServer) -> None:
    settings = reminder_settings(tmp_path, smtp, starting_soon_minutes=1)
    server = TestServer(create_app(settings))
    await server.start_server()
    pair = await make_pair(server.app, "a")
    repos = server.app[REPOS]
    meeting = await repos.meetings.get(pair.meeting_id, viewer=pair.mentee_id)
    await reminders.schedule(repos, meeting, settings)
    await repos.meetings.mark_agenda_sent(meeting.id, viewer=pair.mentee_id)
    assert await reminders.send_due(repos, server.app[OUTBOX], settings) == 0
    outcome = await server.app[DATABASE].fetch_value(
        "SELECT outcome FROM reminders WHERE kind = 'agenda_due'"
    )
    assert outcome == "skipped"
    await server.close()
