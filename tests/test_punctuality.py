"""Attendance from the call itself: the earliest join and latest leave are kept whatever order
and however often Zoom or Jitsi report them, and the summary says who was on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.keys import DATABASE, REPOS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.summary import attendance
from tests.conftest import Pair, add_meeting

Client = TestClient[web.Request, web.Application]


async def test_joins_and_leaves_in_any_order_and_the_summary_tells_punctuality(
    client: Client, pair: Pair
) -> None:
    app = client.app
    repos, db = app[REPOS], app[DATABASE]
    start = (datetime.now(UTC) - timedelta(minutes=50)).replace(second=0, microsecond=0)
    meeting = await add_meeting(app, pair, start)
    # Re-sent and out of order, as webhooks arrive.
    await attendance.joined_call(
        repos, meeting, pair.mentee_id, source="zoom", at=start + timedelta(minutes=4, seconds=30)
    )
    await attendance.joined_call(
        repos, meeting, pair.mentor_id, source="zoom", at=start - timedelta(minutes=2)
    )
    await attendance.joined_call(
        repos, meeting, pair.mentee_id, source="zoom", at=start + timedelta(minutes=9)
    )
    await attendance.left_call(
        repos, meeting, pair.mentee_id, source="zoom", at=start + timedelta(minutes=40)
    )
    await attendance.left_call(
        repos, meeting, pair.mentee_id, source="zoom", at=start + timedelta(minutes=20)
    )
    row = await db.fetch_one(
        "SELECT joined_call_at, left_call_at, call_source FROM meeting_attendance"
        " WHERE meeting_id = ? AND person_id = ?",
        (meeting.id, pair.mentee_id),
    )
    assert row is not None
    assert row["joined_call_at"].startswith(
        (start + timedelta(minutes=4, seconds=30)).strftime("%Y-%m-%dT%H:%M:30")
    )
    assert row["left_call_at"].startswith(
        (start + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")
    )
    assert row["call_source"] == "zoom"
    live = await app[REPOS].meetings.get(meeting.id, viewer=pair.mentor_id)
    assert live.status == "live"

    arrivals = {a.person_id: a.joined_at for a in await attendance.arrivals(repos, meeting)}
    assert arrivals == {
        pair.mentor_id: start - timedelta(minutes=2),
        pair.mentee_id: start + timedelta(minutes=4, seconds=30),
    }
    assert await end_meeting(app, meeting.id, source="zoom", actor=None)
    ended = await app[REPOS].meetings.get(meeting.id, viewer=pair.mentor_id)
    assert ended.ended_at is not None
    summary = await client.get(f"/api/v1/meetings/{meeting.id}/summary", headers=pair.auth())
    body = (await summary.json())["body_markdown"]
    assert "(joined " in body and "2 min early)" in body and "4 min late)" in body
    # The meeting runs from when both were there (the mentee, 4 min late) to its end.
    zone = ZoneInfo("Europe/Lisbon")  # the mentor asked: their own time zone
    began = (start + timedelta(minutes=4)).astimezone(zone)
    minutes = round((ended.ended_at.replace(second=0, microsecond=0) - began).total_seconds() / 60)
    held = f"{began:%H:%M} to {ended.ended_at.astimezone(zone):%H:%M}, {minutes} min"
    assert f"- Held: {held}; started 4 min late" in body
