"""Erasing waits a grace period in which either person can undo, and the other person is told
by email (a real SMTP server); erasing one's profile takes one's mentorships with it. The
byte-by-byte scan of the final erasure is in tests/test_privacy.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar import erasure
from sidecar.app import create_app
from sidecar.keys import DATABASE
from sidecar.settings import Settings
from tests.conftest import Pair, make_pair
from tests.smtp_server import SmtpServer
from tests.waiting import eventually

LATER = timedelta(days=7, minutes=1)


async def started(tmp_path: Path, smtp: SmtpServer, **extra: Any) -> TestServer:
    settings = Settings(
        data_dir=tmp_path / "data", outbox_poll_seconds=0.1, **smtp.settings(), **extra
    )
    server = TestServer(create_app(settings))
    await server.start_server()
    return server


@pytest.fixture
async def service(tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[TestServer]:
    server = await started(tmp_path, smtp)
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


async def test_the_other_person_is_emailed_and_can_undo(
    service: TestServer, smtp: SmtpServer
) -> None:
    pair = await make_pair(service.app, "u")
    status, planned = await call(
        service, "DELETE", f"/mentorships/{pair.mentorship_id}", pair.auth("mentee"),
        {"confirm": True},
    )  # fmt: skip
    assert status == 202, planned
    assert planned["requested_by"] == pair.mentee_id and planned["can_undo"] is True
    erase_after = datetime.fromisoformat(planned["erase_after"])
    assert timedelta(days=6, hours=23) < erase_after - datetime.now(UTC) <= timedelta(days=7)

    await eventually(lambda: len(smtp.inbox.to("mentor.u@example.org")) == 1)
    assert smtp.inbox.to("mentee.u@example.org") == []  # the one who asked is not emailed
    notice = smtp.inbox.to("mentor.u@example.org")[0]
    assert str(notice["Subject"]) == "u Mentee asked to erase your mentorship on Mentor Sidecar"
    body = notice.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    local_day = f"{erase_after.astimezone(ZoneInfo('Europe/Lisbon')):%A %d %B %Y}"
    # The profile link signs the reader in first (sidecar/mail/signin_links.py).
    assert local_day in text and "undo" in text and "/signin/msl_" in text
    assert "?next=/me%23your-data" in text

    # Both see it planned; the mentor keeps it.
    _, seen = await call(service, "GET", f"/mentorships/{pair.mentorship_id}", pair.auth())
    assert seen["erasure"]["erase_after"] == planned["erase_after"]
    _, me = await call(service, "GET", "/me", pair.auth())
    assert me["mentorships"][0]["erasure"]["can_undo"] is True
    status, _ = await call(
        service, "POST", f"/mentorships/{pair.mentorship_id}/erasure/undo", pair.auth()
    )
    assert status == 204
    _, seen = await call(service, "GET", f"/mentorships/{pair.mentorship_id}", pair.auth())
    assert seen["erasure"] is None
    # The mentee, who asked, hears that it stays.
    await eventually(lambda: len(smtp.inbox.to("mentee.u@example.org")) == 1)
    kept = smtp.inbox.to("mentee.u@example.org")[0]
    assert str(kept["Subject"]) == "u Mentor kept your mentorship on Mentor Sidecar"
    assert await erasure.erase_due(service.app, now=datetime.now(UTC) + LATER) == 0
    status, _ = await call(service, "GET", f"/mentorships/{pair.mentorship_id}", pair.auth())
    assert status == 200
    status, problem = await call(
        service, "POST", f"/mentorships/{pair.mentorship_id}/erasure/undo", pair.auth()
    )
    assert status == 404, problem


async def test_with_no_grace_period_it_goes_at_once_and_the_other_is_told(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp, erase_grace_days=0)
    pair = await make_pair(server.app, "n")
    status, _ = await call(
        server, "DELETE", f"/mentorships/{pair.mentorship_id}", pair.auth(), {"confirm": True}
    )
    assert status == 204
    status, _ = await call(server, "GET", f"/mentorships/{pair.mentorship_id}", pair.auth())
    assert status == 404
    await eventually(lambda: len(smtp.inbox.to("mentee.n@example.org")) == 1)
    notice = smtp.inbox.to("mentee.n@example.org")[0]
    assert str(notice["Subject"]) == "n Mentor erased your mentorship on Mentor Sidecar"
    await server.close()


async def test_erasing_my_profile_takes_my_mentorships_after_the_grace_period(
    service: TestServer, smtp: SmtpServer
) -> None:
    app = service.app
    leaving = await make_pair(app, "p")
    bystanders = await make_pair(app, "q")
    status, problem = await call(service, "DELETE", "/me", leaving.auth("mentee"), {})
    assert status == 422 and problem["error"]["fields"][0]["loc"] == "confirm"
    status, planned = await call(
        service, "DELETE", "/me", leaving.auth("mentee"), {"confirm": True}
    )
    assert status == 202, planned
    _, me = await call(service, "GET", "/me", leaving.auth("mentee"))
    assert me["profile_erasure"]["erase_after"] == planned["erase_after"]
    await eventually(lambda: len(smtp.inbox.to("mentor.p@example.org")) == 1)
    text = smtp.inbox.to("mentor.p@example.org")[0].get_body(("plain",))
    assert text is not None and "is leaving Mentor Sidecar" in text.get_content()

    # The mentor sees it planned but cannot undo it: only the person leaving can.
    _, seen = await call(service, "GET", f"/mentorships/{leaving.mentorship_id}", leaving.auth())
    assert seen["erasure"]["reason"] == "profile" and seen["erasure"]["can_undo"] is False
    status, problem = await call(
        service, "POST", f"/mentorships/{leaving.mentorship_id}/erasure/undo", leaving.auth()
    )
    assert status == 409, problem
    # Nor can the mentee undo it here: their profile's erasure is undone on the profile.
    status, problem = await call(
        service,
        "POST",
        f"/mentorships/{leaving.mentorship_id}/erasure/undo",
        leaving.auth("mentee"),
    )
    assert status == 409 and "profile page" in problem["error"]["message"]

    # Two workers' rounds at once (a restart, a second instance): it is erased once.
    later = datetime.now(UTC) + LATER
    rounds = await asyncio.gather(
        erasure.erase_due(app, now=later), erasure.erase_due(app, now=later)
    )
    assert sum(rounds) == 2  # the mentorship and the profile
    status, _ = await call(service, "GET", "/me", leaving.auth("mentee"))
    assert status == 401
    _, mentor_me = await call(service, "GET", "/me", leaving.auth())
    assert mentor_me["mentorships"] == []  # the mentor stays, without the mentorship
    db = app[DATABASE]
    for table in ("people", "photos", "access_tokens"):
        key = "id" if table == "people" else "person_id"
        count = await db.fetch_value(
            f"SELECT COUNT(*) FROM {table} WHERE {key} = ?", (leaving.mentee_id,)
        )
        assert count == 0, table
    status, _ = await call(
        service, "GET", f"/mentorships/{bystanders.mentorship_id}", bystanders.auth()
    )
    assert status == 200


async def test_undoing_my_profile_erasure_keeps_everything(service: TestServer) -> None:
    pair = await make_pair(service.app, "k")
    status, _ = await call(service, "DELETE", "/me", pair.auth(), {"confirm": True})
    assert status == 202
    status, _ = await call(service, "POST", "/me/erasure/undo", pair.auth())
    assert status == 204
    _, me = await call(service, "GET", "/me", pair.auth())
    assert me["profile_erasure"] is None and me["mentorships"][0]["erasure"] is None
    assert await erasure.erase_due(service.app, now=datetime.now(UTC) + LATER) == 0
    status, _ = await call(service, "POST", "/me/erasure/undo", pair.auth())
    assert status == 409


async def test_an_erasure_cut_short_is_finished_after_a_restart(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "r")
    await call(
        server, "DELETE", f"/mentorships/{pair.mentorship_id}", pair.auth(), {"confirm": True}
    )
    # A worker claimed it long ago and died before erasing.
    await server.app[DATABASE].execute(
        "UPDATE mentorship_erasures SET erase_after = '2000-01-01T00:00:00.000Z',"
        " claimed_at = '2000-01-01T00:00:00.000Z'"
    )
    await server.close()
    again = await started(tmp_path, smtp, reminders_poll_seconds=0.1)
    await eventually(lambda: mentorship_gone(again, pair), what="the worker to erase it")
    await again.close()


async def mentorship_gone(server: TestServer, pair: Pair) -> bool:
    status, _ = await call(server, "GET", f"/mentorships/{pair.mentorship_id}", pair.auth())
    return status == 404
