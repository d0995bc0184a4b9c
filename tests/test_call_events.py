"""The one call-events service (sidecar/call_events.py) every platform reports into.

A join that makes a meeting live tells the open panels once, whichever platform reported it and
however often; "over" before the meeting is live ends nothing; many "over" reports from several
platforms end it exactly once. The Zoom paths (webhook worker, in-client "ended") go through it
like Jitsi's, so a Zoom join reaches the open panels too.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar import call_events
from sidecar.call_events import CallEvent
from sidecar.keys import DATABASE, LIVE_EVENTS, REPOS
from sidecar.platforms.names import BadPlatformName
from tests.conftest import ClientFactory, Pair, add_meeting, make_pair
from tests.platform_settings import app_of, needs
from tests.test_zoom_support import participant_event, signed_webhook, zoom_settings

Client = TestClient[web.Request, web.Application]
NUMBER = "85746065432"


class Told:
    """Every publish of the hub, recorded (the real hub still sends them)."""

    def __init__(self, app: web.Application, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str | None]] = []
        hub = app[LIVE_EVENTS]
        real = hub.publish

        async def publish(kind: str, by: str, **where: Any) -> None:
            self.calls.append((kind, where.get("meeting_id")))
            await real(kind, by, **where)

        monkeypatch.setattr(hub, "publish", publish)


async def summaries(app: web.Application, meeting_id: str) -> int:
    value = await app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (meeting_id,)
    )
    return int(value)


async def starting_now(app: web.Application, pair: Pair) -> str:
    meeting = await add_meeting(app, pair, datetime.now(UTC) - timedelta(minutes=2))
    return meeting.id


async def test_the_join_that_makes_a_meeting_live_tells_the_panels_once(
    client: Client, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = client.app
    told = Told(app, monkeypatch)
    meeting_id = await starting_now(app, pair)
    now = datetime.now(UTC)
    first = await call_events.joined(app, meeting_id, pair.mentee_id, platform="jitsi", at=now)
    again = await call_events.joined(app, meeting_id, pair.mentee_id, platform="jitsi", at=now)
    other = await call_events.joined(app, meeting_id, pair.mentor_id, platform="meet", at=now)
    assert (first, again, other) == (True, False, False)
    assert told.calls == [("meeting", meeting_id)]


async def test_over_before_the_meeting_is_live_ends_nothing(client: Client, pair: Pair) -> None:
    app = client.app
    tomorrow = (await add_meeting(app, pair, datetime.now(UTC) + timedelta(days=2))).id
    assert not await call_events.ended(app, tomorrow, platform="zoom", by=pair.mentor_id)
    meeting = await app[REPOS].meetings.read_for_service(tomorrow)
    assert meeting.status == "scheduled"
    assert await summaries(app, tomorrow) == 0


async def test_many_over_reports_from_several_platforms_end_a_meeting_exactly_once(
    client: Client, pair: Pair
) -> None:
    app = client.app
    meeting_id = await starting_now(app, pair)
    await call_events.joined(app, meeting_id, pair.mentor_id, platform="zoom", at=datetime.now(UTC))
    results = await asyncio.gather(
        *(
            call_events.ended(app, meeting_id, platform=name)
            for name in ("zoom", "jitsi", "teams", "zoom", "jitsi")
        )
    )
    assert sorted(results) == [False, False, False, False, True]
    assert await summaries(app, meeting_id) == 1


@pytest.mark.parametrize("name", ["", "Zoom", "zoom app", "1zoom", "z" * 33])
def test_a_platform_name_is_an_identifier(name: str) -> None:
    with pytest.raises(BadPlatformName):
        CallEvent("ended", "m", name)


# --- Zoom reports through the service ---------------------------------------------------------


@pytest.fixture
async def zclient(aiohttp_client: ClientFactory, tmp_path: Path) -> Client:
    return await aiohttp_client(app_of(zoom_settings(tmp_path)))


@needs("zoom")
async def test_a_zoom_join_reaches_the_open_panels(zclient: Client) -> None:
    from zoom_app.webhook import process_pending

    app = zclient.app
    pair = await make_pair(app, "z")
    await zclient.put(
        f"/api/v1/mentorships/{pair.mentorship_id}/zoom-meeting",
        json={"zoom_meeting_id": NUMBER},
        headers=pair.auth("mentor"),
    )
    # The panel is open from well before the call (opening it near the start would itself make
    # the meeting live); then the meeting is moved to now, and the Zoom join makes it live.
    later = datetime.now(UTC) + timedelta(days=3)
    meeting_id = (await add_meeting(app, pair, later)).id
    ws = await zclient.ws_connect(f"/ws/meetings/{meeting_id}/events?token={pair.mentor_token}")
    assert json.loads((await ws.receive()).data) == {"type": "hello"}
    start = datetime.now(UTC) - timedelta(minutes=2)
    await app[REPOS].meetings.update(
        meeting_id,
        {"scheduled_start": start, "scheduled_end": start + timedelta(hours=1)},
        viewer=pair.mentor_id,
    )
    joined = participant_event(
        "joined",
        NUMBER,
        "zoom-uuid==",
        at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        email="mentee.z@example.org",
    )
    raw, headers = signed_webhook(joined)
    assert (await zclient.post("/zoom/webhook", data=raw, headers=headers)).status == 200
    await process_pending(app)
    message = await asyncio.wait_for(ws.receive(), 10)  # a deadline, not a wait
    assert json.loads(message.data)["type"] == "meeting"
    meeting = await app[REPOS].meetings.read_for_service(meeting_id)
    assert meeting.status == "live"
    await ws.close()


@needs("zoom")
async def test_zoom_in_client_ended_before_live_ends_nothing(zclient: Client) -> None:
    app = zclient.app
    pair = await make_pair(app, "y")
    meeting_id = (await add_meeting(app, pair, datetime.now(UTC) + timedelta(days=2))).id
    response = await zclient.post(
        f"/api/v1/meetings/{meeting_id}/zoom-ended", headers=pair.auth("mentor")
    )
    assert (await response.json())["ended"] is False
    assert await summaries(app, meeting_id) == 0
