"""Next steps are edited, reassigned and removed; a due date already past is refused unless
confirmed; dates read with the year only when it is not this year's, overdue steps are flagged
in the summary; the owner is emailed the day before a step is due (real SMTP server)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar import step_reminders
from sidecar.app import create_app
from sidecar.keys import DATABASE, OUTBOX, REPOS, SETTINGS
from sidecar.settings import Settings
from sidecar.summary.due_dates import due_words, short_date
from tests.conftest import Pair, make_pair
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty

FAR = "2031-12-03"


@pytest.fixture
async def service(tmp_path: Path, smtp: SmtpServer) -> Any:
    settings = Settings(data_dir=tmp_path / "data", outbox_poll_seconds=0.1, **smtp.settings())
    server = TestServer(create_app(settings))
    await server.start_server()
    yield server
    await server.close()


async def call(
    server: TestServer, method: str, path: str, auth: dict[str, str], body: object = None
) -> tuple[int, Any]:
    async with (
        ClientSession() as http,
        http.request(method, server.make_url(f"/api/v1{path}"), json=body, headers=auth) as r,
    ):
        return r.status, (await r.json() if r.status != 204 else None)


def today_for(zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


async def test_a_step_is_reworded_reassigned_moved_and_removed(service: TestServer) -> None:
    pair = await make_pair(service.app, "e")
    path = f"/action-items/{pair.action_item_id}"
    status, step = await call(
        service,
        "PATCH",
        path,
        pair.auth(),
        {"text": "Send the second draft", "owner_id": pair.mentor_id, "due_date": FAR},
    )
    assert status == 200, step
    assert (step["text"], step["owner_id"], step["due_date"]) == (
        "Send the second draft",
        pair.mentor_id,
        FAR,
    )
    status, step = await call(service, "PATCH", path, pair.auth("mentee"), {"owner_id": None})
    assert status == 200 and step["owner_id"] is None
    status, problem = await call(service, "PATCH", path, pair.auth(), {"owner_id": "someone"})
    assert status == 422 and problem["error"]["fields"][0]["loc"] == "owner_id"
    status, _ = await call(service, "DELETE", path, pair.auth("mentee"))
    assert status == 204
    _, listed = await call(
        service, "GET", f"/mentorships/{pair.mentorship_id}/action-items", pair.auth()
    )
    assert pair.action_item_id not in {i["id"] for i in listed["items"]}
    status, _ = await call(service, "DELETE", path, pair.auth())
    assert status == 404


async def test_a_due_date_already_past_is_refused_unless_confirmed(service: TestServer) -> None:
    pair = await make_pair(service.app, "p")
    # The mentee is in Tokyo: "yesterday" is by their calendar.
    yesterday = (today_for("Asia/Tokyo") - timedelta(days=1)).isoformat()
    create = f"/mentorships/{pair.mentorship_id}/action-items"
    body = {"text": "Book the room", "due_date": yesterday}
    status, problem = await call(service, "POST", create, pair.auth("mentee"), body)
    assert status == 422, problem
    assert problem["error"]["fields"][0]["loc"] == "due_date"
    assert "confirm_past_due" in problem["error"]["fields"][0]["msg"]
    status, step = await call(
        service, "POST", create, pair.auth("mentee"), {**body, "confirm_past_due": True}
    )
    assert status == 201 and step["due_date"] == yesterday
    # Today is fine; so is changing something else of a step whose date has passed.
    today = today_for("Asia/Tokyo").isoformat()
    status, _ = await call(service, "PATCH", f"/action-items/{step['id']}", pair.auth("mentee"),
                           {"due_date": today})  # fmt: skip
    assert status == 200
    status, problem = await call(
        service, "PATCH", f"/action-items/{step['id']}", pair.auth("mentee"),
        {"due_date": yesterday},
    )  # fmt: skip
    assert status == 422 and problem["error"]["fields"][0]["loc"] == "due_date"
    status, _ = await call(
        service, "PATCH", f"/action-items/{step['id']}", pair.auth("mentee"),
        {"due_date": yesterday, "confirm_past_due": True},
    )  # fmt: skip
    assert status == 200
    status, _ = await call(
        service, "PATCH", f"/action-items/{step['id']}", pair.auth("mentee"), {"text": "Book it"}
    )
    assert status == 200


def test_due_dates_read_with_the_year_only_when_it_is_not_this_years() -> None:
    today = date(2026, 12, 1)
    assert due_words(date(2026, 12, 3), today) == "by 3 Dec"
    assert due_words(date(2027, 1, 4), today) == "by 4 Jan 2027"
    assert due_words(date(2026, 11, 30), today) == "overdue since 30 Nov"
    assert due_words(date(2025, 11, 30), today) == "overdue since 30 Nov 2025"
    assert due_words(today, today) == "by 1 Dec"
    assert short_date(date(2025, 6, 3), today) == "3 Jun 2025"  # goal progress entries too


async def test_the_summary_flags_steps_still_open_and_overdue(service: TestServer) -> None:
    pair = await make_pair(service.app, "s")
    old = (today_for("UTC") - timedelta(days=5)).isoformat()
    create = f"/mentorships/{pair.mentorship_id}/action-items"
    status, _ = await call(
        service, "POST", create, pair.auth(),
        {"text": "Read the design chapter", "owner_id": pair.mentee_id, "due_date": old,
         "confirm_past_due": True},
    )  # fmt: skip
    assert status == 201
    status, _ = await call(
        service, "POST", create, pair.auth(),
        {"text": "Sketch the portfolio", "due_date": FAR, "created_in_meeting_id": pair.meeting_id},
    )  # fmt: skip
    assert status == 201
    _, draft = await call(service, "GET", f"/meetings/{pair.meeting_id}/summary/draft", pair.auth())
    text = draft["body_markdown"]
    assert "Sketch the portfolio (either of you, by 3 Dec 2031)" in text, text
    earlier = text.split("## Still open from earlier", 1)[1]
    old_day = date.fromisoformat(old)
    assert f"Read the design chapter (s Mentee, overdue since {old_day.day} {old_day:%b}" in earlier


async def test_the_owner_is_reminded_the_day_before_once(
    service: TestServer, smtp: SmtpServer
) -> None:
    app = service.app
    pair = await make_pair(app, "r")  # the mentee lives in Tokyo
    tokyo = ZoneInfo("Asia/Tokyo")
    due = date(2031, 3, 14)
    evening_before = datetime(2031, 3, 13, 18, 0, tzinfo=tokyo)
    early_before = datetime(2031, 3, 13, 7, 0, tzinfo=tokyo)
    status, step = await call(
        service, "PATCH", f"/action-items/{pair.action_item_id}", pair.auth(),
        {"due_date": due.isoformat(), "text": "Send the portfolio draft"},
    )  # fmt: skip
    assert status == 200, step
    repos, outbox, settings = app[REPOS], app[OUTBOX], app[SETTINGS]
    # Written down long before (created_at is when the test ran: years earlier).
    assert await step_reminders.send_due(repos, outbox, settings, now=early_before) == 0
    assert (
        await step_reminders.send_due(
            repos, outbox, settings, now=evening_before - timedelta(days=1)
        )
        == 0
    )
    rounds = [
        await step_reminders.send_due(repos, outbox, settings, now=evening_before) for _ in range(2)
    ]
    assert rounds == [1, 0]
    await eventually(lambda: len(smtp.inbox.to("mentee.r@example.org")) == 1)
    mail = smtp.inbox.to("mentee.r@example.org")[0]
    assert str(mail["Subject"]) == "Due tomorrow: Send the portfolio draft"
    body = mail.get_body(("plain",))
    assert body is not None and "Tomorrow, Friday 14 March" in body.get_content()
    assert f"/meetings/{pair.meeting_id}" in body.get_content()
    assert smtp.inbox.to("mentor.r@example.org") == []

    # A new date is a new reminder; a step done is not reminded of.
    await call(service, "PATCH", f"/action-items/{pair.action_item_id}", pair.auth(),
               {"due_date": "2031-03-21"})  # fmt: skip
    week_later = evening_before + timedelta(days=7)
    assert await step_reminders.send_due(repos, outbox, settings, now=week_later) == 1
    await call(service, "PATCH", f"/action-items/{pair.action_item_id}", pair.auth(),
               {"due_date": "2031-03-28", "status": "done"})  # fmt: skip
    two_weeks = evening_before + timedelta(days=14)
    assert await step_reminders.send_due(repos, outbox, settings, now=two_weeks) == 0
    rows = await app[DATABASE].fetch_all("SELECT due_date, outcome FROM step_reminders")
    assert {(r["due_date"], r["outcome"]) for r in rows} == {
        ("2031-03-14", "sent"),
        ("2031-03-21", "sent"),
    }


async def test_two_services_on_one_database_remind_of_a_step_once(
    service: TestServer, smtp: SmtpServer
) -> None:
    app = service.app
    pair = await make_pair(app, "r")  # the mentee lives in Tokyo
    await call(service, "PATCH", f"/action-items/{pair.action_item_id}", pair.auth(),
               {"due_date": "2031-03-14"})  # fmt: skip
    evening_before = datetime(2031, 3, 13, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    other = TestServer(create_app(app[SETTINGS]))
    await other.start_server()
    rounds = [
        step_reminders.send_due(server[REPOS], server[OUTBOX], server[SETTINGS], evening_before)
        for server in (app, other.app, app, other.app)
    ]
    assert sum(await asyncio.gather(*rounds)) == 1
    await eventually(lambda: len(smtp.inbox.to("mentee.r@example.org")) == 1)
    await outbox_empty(app[DATABASE])
    assert len(smtp.inbox.messages) == 1
    await other.close()


async def test_a_step_written_down_just_now_is_not_reminded_of(service: TestServer) -> None:
    app = service.app
    pair = await make_pair(app, "j")
    tomorrow = today_for("Asia/Tokyo") + timedelta(days=1)
    await call(service, "PATCH", f"/action-items/{pair.action_item_id}", pair.auth(),
               {"due_date": tomorrow.isoformat()})  # fmt: skip
    # The day before, in Tokyo, at a time reminders go out (09:00 or later): only having been
    # written down less than 12 hours ago holds it back. From 09:00, not later: the step was
    # written at most 9 hours before then, whatever the time of day the test runs (it once took
    # 20:00, which is more than 12 hours after a step written before 08:00 in Tokyo).
    day_before = datetime.combine(tomorrow - timedelta(days=1), time(9, 0), ZoneInfo("Asia/Tokyo"))
    now = max(day_before, datetime.now(UTC))
    sent = await step_reminders.send_due(app[REPOS], app[OUTBOX], app[SETTINGS], now=now)
    assert sent == 0


async def test_reminders_can_be_switched_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, step_due_reminders=False)
    server = TestServer(create_app(settings))
    await server.start_server()
    pair: Pair = await make_pair(server.app, "o")
    await call(server, "PATCH", f"/action-items/{pair.action_item_id}", pair.auth(),
               {"due_date": "2031-03-14"})  # fmt: skip
    at = datetime(2031, 3, 13, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    app = server.app
    assert await step_reminders.send_due(app[REPOS], app[OUTBOX], app[SETTINGS], now=at) == 0
    await server.close()
