"""Zoom's event notifications at /zoom/webhook, and the linking of Zoom meetings to pairs.

Requests are built with tests/test_zoom_support.py from Zoom's documented algorithm and payload
shapes (Zoom "Using webhooks": url_validation, x-zm-signature; Zoom Meetings webhooks:
meeting.ended, meeting.participant_joined, meeting.participant_left); the test client stands in
for Zoom's webhook sender.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.db import open_database
from sidecar.keys import DATABASE, REPOS
from tests.conftest import ClientFactory, Pair, add_meeting, make_pair
from tests.platform_settings import Configured, app_of, needs
from tests.test_zoom_support import (
    WEBHOOK_SECRET,
    meeting_ended,
    participant_event,
    signed_webhook,
    zoom_settings,
)
from tests.waiting import eventually
from zoom_app.state import ZOOM
from zoom_app.store import ZoomStore
from zoom_app.webhook import process_pending

pytestmark = needs("zoom")

Client = TestClient[web.Request, web.Application]
NUMBER = "85746065432"


@pytest.fixture
def settings(tmp_path: Path) -> Configured:
    return zoom_settings(tmp_path)


async def post_event(client: Client, body: dict[str, Any], **kw: Any) -> Any:
    raw, headers = signed_webhook(body, **kw)
    return await client.post("/zoom/webhook", data=raw, headers=headers)


async def link(client: Client, pair: Pair, number: str = NUMBER, who: str = "mentor") -> Any:
    response = await client.put(
        f"/api/v1/mentorships/{pair.mentorship_id}/zoom-meeting",
        json={"zoom_meeting_id": number},
        headers=pair.auth(who),
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def make_live(client: Client, pair: Pair) -> str:
    """A meeting of the pair under way (started five minutes ago); returns its id. (The fixture's
    own meeting is tomorrow's and already has a summary.)"""
    meeting = await add_meeting(client.app, pair, datetime.now(UTC) - timedelta(minutes=5))
    await client.app[REPOS].meetings.update(meeting.id, {"status": "live"}, viewer=pair.mentor_id)
    return meeting.id


async def summaries(client: Client, meeting_id: str) -> int:
    count = await client.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (meeting_id,)
    )
    return int(count)


async def summary_emails(client: Client, meeting_id: str) -> int:
    count = await client.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE meeting_id = ? AND kind = 'summary'", (meeting_id,)
    )
    return int(count)


# --- verification -------------------------------------------------------------------------------


async def test_url_validation_answers_with_zoom_documented_hmac(client: Client) -> None:
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    response = await post_event(client, body)
    assert response.status == 200
    answer = await response.json()
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256
    ).hexdigest()
    assert answer == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"x-zm-signature": "v0=" + "0" * 64}, "x-zm-signature"),
        ({"x-zm-signature": ""}, "x-zm-signature"),
        ({"x-zm-request-timestamp": "yesterday"}, "x-zm-request-timestamp"),
    ],
)
async def test_a_bad_signature_is_refused(
    client: Client, change: dict[str, str], field: str
) -> None:
    raw, headers = signed_webhook(meeting_ended(NUMBER, "u1=="))
    response = await client.post("/zoom/webhook", data=raw, headers=headers | change)
    assert response.status == 401
    assert (await response.json())["error"]["message"].startswith(field)


async def test_a_body_changed_after_signing_is_refused(client: Client) -> None:
    raw, headers = signed_webhook(meeting_ended(NUMBER, "u1=="))
    response = await client.post(
        "/zoom/webhook", data=raw.replace(b"u1==", b"u2=="), headers=headers
    )
    assert response.status == 401


async def test_a_stale_or_future_timestamp_is_refused_even_when_signed(client: Client) -> None:
    for offset in (-301, 301):
        response = await post_event(
            client, meeting_ended(NUMBER, "u1=="), timestamp=int(time.time()) + offset
        )
        assert response.status == 401
        assert "x-zm-request-timestamp" in (await response.json())["error"]["message"]
    stored = await client.app[DATABASE].fetch_value("SELECT COUNT(*) FROM zoom_events")
    assert stored == 0


async def test_signed_garbage_is_a_4xx_naming_the_field(client: Client) -> None:
    raw, headers = signed_webhook({"payload": {}})
    response = await client.post("/zoom/webhook", data=raw, headers=headers)
    assert response.status == 422
    assert (await response.json())["error"]["fields"][0]["loc"] == "event"
    ts = str(int(time.time()))
    sig = hmac.new(WEBHOOK_SECRET.encode(), f"v0:{ts}:not json".encode(), hashlib.sha256)
    response = await client.post(
        "/zoom/webhook",
        data=b"not json",
        headers={"x-zm-request-timestamp": ts, "x-zm-signature": "v0=" + sig.hexdigest()},
    )
    assert response.status == 400
    validation = {"event": "endpoint.url_validation", "payload": {}}
    response = await post_event(client, validation)
    assert response.status == 422
    assert (await response.json())["error"]["fields"][0]["loc"] == "payload.plainToken"


async def test_without_a_secret_the_webhook_refuses_everything(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(app_of(zoom_settings(tmp_path, zoom_webhook_secret="")))
    response = await post_event(client, meeting_ended(NUMBER, "u1=="))
    assert response.status == 404  # Zoom is off here: as if the route did not exist


# --- meeting.ended ------------------------------------------------------------------------------


async def test_meeting_ended_ends_the_linked_live_meeting_once_however_often_zoom_says_so(
    client: Client, pair: Pair
) -> None:
    await link(client, pair)
    live = await make_live(client, pair)
    # Zoom wants the answer within three seconds: the event is stored and answered "accepted",
    # and the end runs in the worker afterwards (not timed here: timing belongs in bench/).
    response = await post_event(client, meeting_ended(NUMBER, "instance-1=="))
    assert response.status == 200 and (await response.json())["status"] == "accepted"
    # Zoom re-sends the same event (new timestamp, same payload), and sends meeting.ended again
    # with a later end time: one row, then a second event that finds the meeting ended.
    again = await post_event(client, meeting_ended(NUMBER, "instance-1=="))
    assert (await again.json())["status"] == "duplicate"
    later = meeting_ended(NUMBER, "instance-1==", end_time="2026-11-25T10:47:00Z")
    assert (await (await post_event(client, later)).json())["status"] == "accepted"

    await process_pending(client.app)
    meeting = await client.app[REPOS].meetings.get(live, viewer=pair.mentor_id)
    assert meeting.status == "ended" and meeting.ended_by == "zoom"
    assert await summaries(client, live) == 1
    assert await summary_emails(client, live) == 2  # one per person
    outcomes = await client.app[DATABASE].fetch_all("SELECT outcome FROM zoom_events ORDER BY id")
    assert [o["outcome"] for o in outcomes] == [
        f"{live} ended",
        f"{live} had already ended",
    ]


async def test_the_worker_does_the_work_after_the_reply(client: Client, pair: Pair) -> None:
    await link(client, pair)
    live = await make_live(client, pair)
    response = await post_event(client, meeting_ended(NUMBER, "instance-2=="))
    assert response.status == 200
    # The background worker, woken by the stored event.
    await eventually(lambda: summaries(client, live), what="the summary")
    assert await summaries(client, live) == 1


async def test_an_unknown_zoom_meeting_is_ignored_not_retried(client: Client, pair: Pair) -> None:
    live = await make_live(client, pair)
    await post_event(client, meeting_ended("99999999999", "other=="))
    await process_pending(client.app)
    row = await client.app[DATABASE].fetch_one("SELECT * FROM zoom_events")
    assert row is not None and row["processed_at"] is not None and row["attempts"] == 1
    assert row["outcome"].startswith("ignored")
    assert row["body"] == "{}", "nothing of a meeting that is not a pair's is kept"
    assert await summaries(client, live) == 0
    assert await process_pending(client.app) == 0  # nothing left to do


async def test_events_the_panel_does_not_use_are_not_kept_and_old_ones_are_forgotten(
    client: Client, pair: Pair
) -> None:
    db = client.app[DATABASE]
    other = {"event": "user.updated", "payload": {"object": {"email": "someone@example.org"}}}
    raw, headers = signed_webhook(other)
    response = await client.post("/zoom/webhook", data=raw, headers=headers)
    assert response.status == 200 and (await response.json())["status"] == "ignored"
    assert await db.fetch_value("SELECT COUNT(*) FROM zoom_events") == 0

    await post_event(client, meeting_ended("99999999999", "other=="))
    await process_pending(client.app)
    store = client.app[ZOOM].store
    assert await store.forget_processed(before=datetime.now(UTC) - timedelta(days=7)) == 0
    assert await store.forget_processed(before=datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await db.fetch_value("SELECT COUNT(*) FROM zoom_events") == 0


async def test_a_scheduled_meeting_is_not_ended_by_a_zoom_meeting_that_never_was_it(
    client: Client, pair: Pair
) -> None:
    await link(client, pair)
    soon = await add_meeting(client.app, pair, datetime.now(UTC) + timedelta(minutes=30))
    await post_event(client, meeting_ended(NUMBER, "someone-elses-call=="))
    await process_pending(client.app)
    meeting = await client.app[REPOS].meetings.get(soon.id, viewer=pair.mentor_id)
    assert meeting.status == "scheduled"  # not live: that Zoom call was not this meeting


async def test_events_stored_before_a_restart_are_processed_after_it(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = zoom_settings(tmp_path)
    first = await aiohttp_client(app_of(settings))
    pair = await make_pair(first.app, "r")
    await link(first, pair)
    live = await make_live(first, pair)
    await first.close()  # the service stops: its worker is gone

    # Zoom's event, accepted and stored by the previous process but never processed.
    db = await open_database(settings.settings)
    assert await ZoomStore(db).store_event(
        "meeting.ended", meeting_ended(NUMBER, "before-restart==")
    )
    await db.close()

    second = await aiohttp_client(app_of(settings))
    # The background worker, woken by the stored event.
    await eventually(lambda: summaries(second, live), what="the summary")
    assert await summaries(second, live) == 1


# --- attendance ---------------------------------------------------------------------------------


async def test_participants_joining_and_leaving_record_attendance_and_punctuality(
    client: Client, pair: Pair
) -> None:
    await link(client, pair)
    live = await make_live(client, pair)
    meeting = await client.app[REPOS].meetings.get(live, viewer=pair.mentor_id)
    # The mentee has linked their Zoom account; the mentor is recognised by email.
    await client.app[ZOOM].store.link_account(
        pair.mentee_id,
        zoom_user_id="zoom-mentee",
        zoom_email="someone@zoom.example",
        tokens=None,
        token_expires_at=None,
        scope="",
    )
    late = (meeting.scheduled_start + timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    early = (meeting.scheduled_start - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    left = (meeting.scheduled_start + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    uuid = "instance-3=="
    events = [
        participant_event("joined", NUMBER, uuid, at=late, zoom_user_id="zoom-mentee"),
        participant_event("joined", NUMBER, uuid, at=early, email="MENTOR.a@example.org"),
        participant_event("left", NUMBER, uuid, at=left, zoom_user_id="zoom-mentee"),
        participant_event("joined", NUMBER, uuid, at=early, email="stranger@example.org"),
    ]
    for event in events:
        assert (await post_event(client, event)).status == 200
    await process_pending(client.app)
    rows = {
        r["person_id"]: r
        for r in await client.app[DATABASE].fetch_all(
            "SELECT * FROM meeting_attendance WHERE meeting_id = ?", (live,)
        )
    }
    assert set(rows) == {pair.mentor_id, pair.mentee_id}  # the stranger is nobody of the pair
    assert rows[pair.mentee_id]["joined_call_at"].startswith(late[:16])
    assert rows[pair.mentee_id]["left_call_at"].startswith(left[:16])
    assert rows[pair.mentor_id]["joined_call_at"].startswith(early[:16])
    assert {r["call_source"] for r in rows.values()} == {"zoom"}
    # The instance is now tied to the meeting: its meeting.ended needs no live-meeting guess.
    assert await client.app[ZOOM].store.meeting_for_instance(uuid) == live


# --- linking a Zoom meeting to a pair (the JSON API the panel in Zoom uses) -----------------------


async def test_the_choice_is_remembered_per_zoom_meeting_and_only_for_the_pair(
    client: Client, pair: Pair, other_pair: Pair
) -> None:
    ask = {"zoom_meeting_id": NUMBER, "meeting_uuid": "occurrence-1=="}
    first = await (
        await client.post("/api/v1/zoom/meeting-context", json=ask, headers=pair.auth("mentee"))
    ).json()
    assert first["mentorship_id"] is None and first["meeting_id"] is None
    assert [m["id"] for m in first["mentorships"]] == [pair.mentorship_id]

    linked = await link(client, pair, who="mentee")
    assert linked["meeting_id"] == pair.meeting_id
    # The next occurrence of the recurring meeting (same number, new UUID), for the mentor too.
    later = {"zoom_meeting_id": NUMBER, "meeting_uuid": "occurrence-2=="}
    for who in ("mentor", "mentee"):
        answer = await (
            await client.post("/api/v1/zoom/meeting-context", json=later, headers=pair.auth(who))
        ).json()
        assert (answer["mentorship_id"], answer["meeting_id"]) == (
            pair.mentorship_id,
            pair.meeting_id,
        )

    # Another pair in the same Zoom meeting sees nothing of this pair, and cannot link to it.
    theirs = await (
        await client.post("/api/v1/zoom/meeting-context", json=later, headers=other_pair.auth())
    ).json()
    assert theirs["mentorship_id"] is None and theirs["meeting_id"] is None
    assert pair.mentorship_id not in json.dumps(theirs)
    hijack = await client.put(
        f"/api/v1/mentorships/{pair.mentorship_id}/zoom-meeting",
        json={"zoom_meeting_id": NUMBER},
        headers=other_pair.auth(),
    )
    assert hijack.status == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"zoom_meeting_id": "12 34"},
        {"zoom_meeting_id": "abc"},
        {"zoom_meeting_id": NUMBER, "x": 1},
    ],
)
async def test_bad_zoom_meeting_ids_are_422_naming_the_field(
    client: Client, pair: Pair, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/zoom/meeting-context", json=body, headers=pair.auth())
    assert response.status == 422
    locs = [f["loc"] for f in (await response.json())["error"]["fields"]]
    assert locs and all(loc in ("zoom_meeting_id", "x") for loc in locs)


async def test_the_zoom_client_saying_ended_ends_the_meeting_once(
    client: Client, pair: Pair
) -> None:
    live = await make_live(client, pair)
    url = f"/api/v1/meetings/{live}/zoom-ended"
    first = await (await client.post(url, headers=pair.auth("mentor"))).json()
    second = await (await client.post(url, headers=pair.auth("mentee"))).json()
    assert (first["ended"], second["ended"]) == (True, False)
    assert await summaries(client, live) == 1
