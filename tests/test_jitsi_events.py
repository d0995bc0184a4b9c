"""The call's events, from both sides: Prosody's event_sync module and the call page's iframe.

The webhook bodies stand in for what jitsi-contrib/prosody-plugins `event_sync` POSTs: they are
built from the shapes its README documents (event_sync/README.md at commit
0cf1f053485fef21820dfd650c9b63b77d971cba: event_name, room_name, room_jid, is_breakout,
created_at/destroyed_at, occupant {name, email, id, occupant_jid, joined_at, left_at},
all_occupants, active_occupants_count), with `id`/`email` being what the service put in each
person's token (context.user), as the module copies them from there. The client events stand in
for what the call page forwards from the Jitsi IFrame API (videoConferenceJoined,
videoConferenceLeft, readyToClose, toolbarButtonClicked with key hangup / end-meeting).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.keys import DATABASE
from tests.conftest import ClientFactory, Pair, add_meeting, make_pair
from tests.platform_settings import app_of, needs
from tests.test_jitsi_tokens import jitsi_settings

pytestmark = needs("jitsi")

Client = TestClient[web.Request, web.Application]
BEARER = {"Authorization": "Bearer event-secret"}


@pytest.fixture
async def jclient(aiohttp_client: ClientFactory, tmp_path: Path) -> Client:
    return await aiohttp_client(app_of(jitsi_settings(tmp_path)))


@pytest.fixture
async def jpair(jclient: Client) -> Pair:
    return await make_pair(jclient.app, "j")


async def live_meeting(client: Client, pair: Pair, minutes_ago: int = 5) -> tuple[str, str]:
    """A meeting that started a few minutes ago, and its Jitsi room (made by the call page)."""
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    meeting = await add_meeting(client.app, pair, start, title="Jitsi check-in")
    body = await (
        await client.get(f"/api/v1/meetings/{meeting.id}/jitsi", headers=pair.auth("mentee"))
    ).json()
    return meeting.id, body["room_name"]


# --- event_sync payloads, after the module's README -------------------------------------------


def occupant(pair: Pair, who: str, joined: int, left: int | None = None) -> dict[str, Any]:
    person_id = pair.mentor_id if who == "mentor" else pair.mentee_id
    data: dict[str, Any] = {
        "name": f"j {who.capitalize()}",
        "email": f"{who}.j@example.org",
        "id": person_id,
        "occupant_jid": f"{person_id.lower()}@meet.example.org/OWhl8jSh",
        "joined_at": joined,
    }
    if left is not None:
        data["left_at"] = left
    return data


def room_created(room: str, at: int) -> dict[str, Any]:
    return {
        "event_name": "muc-room-created",
        "room_name": room,
        "room_jid": f"{room}@conference.meet.example.org",
        "is_breakout": False,
        "created_at": at,
    }


def occupant_joined(room: str, occ: dict[str, Any], count: int = 1) -> dict[str, Any]:
    return {
        "event_name": "muc-occupant-joined",
        "room_name": room,
        "room_jid": f"{room}@conference.meet.example.org",
        "is_breakout": False,
        "active_occupants_count": count,
        "occupant": occ,
    }


def occupant_left(room: str, occ: dict[str, Any], count: int = 0) -> dict[str, Any]:
    return occupant_joined(room, occ, count) | {"event_name": "muc-occupant-left"}


def room_destroyed(room: str, created: int, destroyed: int, occupants: list[Any]) -> dict[str, Any]:
    return {
        "event_name": "muc-room-destroyed",
        "room_name": room,
        "room_jid": f"{room}@conference.meet.example.org",
        "is_breakout": False,
        "created_at": created,
        "destroyed_at": destroyed,
        "all_occupants": occupants,
    }


async def post(client: Client, path: str, body: Any, headers: dict[str, str] = BEARER) -> Any:
    return await client.post(f"/jitsi/events/{path}", json=body, headers=headers)


async def attendance_rows(client: Client, meeting_id: str) -> dict[str, dict[str, Any]]:
    rows = await client.app[DATABASE].fetch_all(
        "SELECT * FROM meeting_attendance WHERE meeting_id = ?", (meeting_id,)
    )
    return {row["person_id"]: row for row in rows}


async def summaries_sent(client: Client, meeting_id: str) -> tuple[int, int]:
    """(summaries stored, summary emails queued) for the meeting."""
    db = client.app[DATABASE]
    stored = await db.fetch_value(
        "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (meeting_id,)
    )
    emails = await db.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE meeting_id = ? AND kind = 'summary'", (meeting_id,)
    )
    return int(stored), int(emails)


def iso_seconds(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-secret"},
        {"Authorization": "Bearer event-secret-and-more"},
        {"Authorization": "Basic event-secret"},
        {"Authorization": "event-secret"},
    ],
    ids=["none", "wrong", "longer", "basic", "bare"],
)
async def test_events_without_the_right_secret_are_refused(
    jclient: Client, jpair: Pair, headers: dict[str, str]
) -> None:
    meeting_id, room = await live_meeting(jclient, jpair)
    response = await post(jclient, "room/destroyed", room_destroyed(room, 1, 2, []), headers)
    assert response.status == 401
    assert (await response.json())["error"]["status"] == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert await summaries_sent(jclient, meeting_id) == (0, 0)


async def test_with_no_secret_set_every_event_is_refused(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(app_of(jitsi_settings(tmp_path, jitsi_event_secret="")))
    for headers in ({}, {"Authorization": "Bearer "}, BEARER):
        response = await post(client, "room/created", room_created("ms-x", 1), headers)
        assert response.status == 401
        assert "JITSI_EVENT_SECRET" in (await response.json())["error"]["message"]


# --- bad bodies: 4xx naming the field, never a 500 ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("room/created", "not json", 400, "body"),
        ("room/created", ["a list"], 400, "body"),
        ("room/created", {"event_name": "muc-room-created"}, 422, "room_name"),
        ("room/destroyed", {"event_name": "muc-room-created", "room_name": "r"}, 422, "event_name"),
        (
            "occupant/joined",
            {"event_name": "muc-occupant-joined", "room_name": "r"},
            422,
            "occupant",
        ),
        (
            "occupant/left",
            {"event_name": "muc-occupant-left", "room_name": "r", "occupant": {"left_at": 1}},
            422,
            "occupant.occupant_jid",
        ),
        (
            "occupant/joined",
            {
                "event_name": "muc-occupant-joined",
                "room_name": "r",
                "occupant": {"occupant_jid": "a@b/c", "joined_at": 1e30},
            },
            422,
            "occupant.joined_at",
        ),
        (
            "room/destroyed",
            {"event_name": "muc-room-destroyed", "room_name": "r", "all_occupants": "x"},
            422,
            "all_occupants",
        ),
    ],
)
async def test_bad_event_bodies_name_the_field(
    jclient: Client, path: str, body: Any, status: int, field: str
) -> None:
    if isinstance(body, str):
        # Malformed JSON, sent as event_sync sends every body: as application/json.
        response = await jclient.post(
            f"/jitsi/events/{path}",
            data=body,
            headers={**BEARER, "Content-Type": "application/json"},
        )
    else:
        response = await post(jclient, path, body)
    assert response.status == status, await response.text()
    error = (await response.json())["error"]
    assert field in error["message"]


async def test_an_unknown_event_path_is_a_json_404(jclient: Client) -> None:
    response = await post(jclient, "room/joined", room_created("r", 1))
    assert response.status == 404
    assert "room/created" in (await response.json())["error"]["message"]


# --- what the events do -------------------------------------------------------------------------


async def test_a_whole_call_records_attendance_and_ends_the_meeting_once(
    jclient: Client, jpair: Pair
) -> None:
    meeting_id, room = await live_meeting(jclient, jpair)
    t0 = int(time.time()) - 600
    mentee = occupant(jpair, "mentee", t0 + 30)
    mentor = occupant(jpair, "mentor", t0 + 90)

    answer = await (await post(jclient, "room/created", room_created(room, t0))).json()
    assert answer == {"meeting_id": meeting_id, "action": "noted", "detail": ""}
    assert (await (await post(jclient, "occupant/joined", occupant_joined(room, mentee))).json())[
        "action"
    ] == "joined"
    await post(jclient, "occupant/joined", occupant_joined(room, mentor, 2))
    # Duplicates (event_sync retries on a timeout) change nothing.
    await post(jclient, "occupant/joined", occupant_joined(room, mentor | {"joined_at": t0 + 95}))
    meeting = await jclient.get(f"/api/v1/meetings/{meeting_id}", headers=jpair.auth())
    assert (await meeting.json())["status"] == "live"

    await post(
        jclient,
        "occupant/left",
        occupant_left(room, occupant(jpair, "mentor", t0 + 90, t0 + 500), 1),
    )
    await post(
        jclient, "occupant/left", occupant_left(room, occupant(jpair, "mentee", t0 + 30, t0 + 510))
    )
    rows = await attendance_rows(jclient, meeting_id)
    assert rows[jpair.mentee_id]["joined_call_at"] == iso_seconds(t0 + 30)
    assert rows[jpair.mentor_id]["joined_call_at"] == iso_seconds(t0 + 90), "earliest join kept"
    assert rows[jpair.mentor_id]["left_call_at"] == iso_seconds(t0 + 500)
    assert rows[jpair.mentee_id]["call_source"] == "jitsi"

    everyone = [
        occupant(jpair, "mentee", t0 + 30, t0 + 510),
        occupant(jpair, "mentor", t0 + 90, t0 + 500),
    ]
    destroyed = room_destroyed(room, t0, t0 + 520, everyone)
    first = await (await post(jclient, "room/destroyed", destroyed)).json()
    assert first["action"] == "ended"
    again = await (await post(jclient, "room/destroyed", destroyed)).json()
    assert again["action"] == "not ended" and "already ended" in again["detail"]
    assert await summaries_sent(jclient, meeting_id) == (1, 2)  # one summary, one email each
    ended = await (await jclient.get(f"/api/v1/meetings/{meeting_id}", headers=jpair.auth())).json()
    assert ended["status"] == "ended" and ended["ended_by"] == "jitsi"


async def test_room_destroyed_racing_the_client_hangup_sends_one_summary(
    jclient: Client, jpair: Pair
) -> None:
    meeting_id, room = await live_meeting(jclient, jpair)
    t0 = int(time.time()) - 300
    everyone = [
        occupant(jpair, "mentee", t0, t0 + 200),
        occupant(jpair, "mentor", t0 + 5, t0 + 190),
    ]
    destroyed = room_destroyed(room, t0, t0 + 210, everyone)
    hangup = {"event": "toolbarButtonClicked", "key": "hangup", "others_in_call": 0}
    url = f"/api/v1/meetings/{meeting_id}/jitsi/events"

    responses = await asyncio.gather(
        post(jclient, "room/destroyed", destroyed),
        post(jclient, "room/destroyed", destroyed),
        jclient.post(url, json=hangup, headers=jpair.auth("mentee")),
        jclient.post(url, json={"event": "readyToClose"}, headers=jpair.auth("mentor")),
        post(jclient, "room/destroyed", destroyed),
    )
    assert [r.status for r in responses] == [200] * 5
    bodies = [await r.json() for r in responses]
    ended = [b for b in bodies if b.get("action") == "ended" or b.get("ended") is True]
    assert len(ended) == 1, bodies
    assert await summaries_sent(jclient, meeting_id) == (1, 2)


async def test_all_occupants_fill_in_missed_joins(jclient: Client, jpair: Pair) -> None:
    """Only room/destroyed arrived (the others were lost): attendance still comes from it."""
    meeting_id, room = await live_meeting(jclient, jpair)
    t0 = int(time.time()) - 900
    everyone = [occupant(jpair, "mentor", t0 + 10, t0 + 800)]
    answer = await (
        await post(jclient, "room/destroyed", room_destroyed(room, t0, t0 + 805, everyone))
    ).json()
    assert answer["action"] == "ended"
    rows = await attendance_rows(jclient, meeting_id)
    assert set(rows) == {jpair.mentor_id}
    assert rows[jpair.mentor_id]["joined_call_at"] == iso_seconds(t0 + 10)
    assert rows[jpair.mentor_id]["left_call_at"] == iso_seconds(t0 + 800)


async def test_a_test_call_the_day_before_does_not_end_the_meeting(
    jclient: Client, jpair: Pair
) -> None:
    # The pair fixture's meeting starts tomorrow; its summary row is the fixture's own.
    meeting = await add_meeting(jclient.app, jpair, datetime.now(UTC) + timedelta(days=1))
    room = (
        await (
            await jclient.get(f"/api/v1/meetings/{meeting.id}/jitsi", headers=jpair.auth())
        ).json()
    )["room_name"]
    t0 = int(time.time()) - 60
    await post(jclient, "occupant/joined", occupant_joined(room, occupant(jpair, "mentee", t0)))
    destroyed = room_destroyed(room, t0, t0 + 50, [occupant(jpair, "mentee", t0, t0 + 50)])
    answer = await (await post(jclient, "room/destroyed", destroyed)).json()
    assert answer["action"] == "not ended" and "scheduled" in answer["detail"]
    assert await summaries_sent(jclient, meeting.id) == (0, 0)


async def test_rooms_breakouts_and_people_not_of_the_pair_are_ignored(
    jclient: Client, jpair: Pair
) -> None:
    meeting_id, room = await live_meeting(jclient, jpair)
    t0 = int(time.time())
    unknown = await (
        await post(jclient, "room/destroyed", room_destroyed("ms-nobody", t0, t0, []))
    ).json()
    assert unknown == {
        "meeting_id": None,
        "action": "ignored",
        "detail": "no meeting uses this room",
    }

    breakout = room_destroyed(room, t0, t0, []) | {"is_breakout": True, "breakout_room_id": "b1"}
    assert (await (await post(jclient, "room/destroyed", breakout)).json())["action"] == "ignored"

    stranger = occupant(jpair, "mentee", t0) | {"id": "someone-else", "email": "x@example.org"}
    answer = await (await post(jclient, "occupant/joined", occupant_joined(room, stranger))).json()
    assert answer["action"] == "ignored"
    # The other pair's person, in this room (a token of theirs cannot be for it, but still).
    other = await make_pair(jclient.app, "o")
    theirs = occupant(other, "mentor", t0)
    assert (await (await post(jclient, "occupant/joined", occupant_joined(room, theirs))).json())[
        "action"
    ] == "ignored"
    # Without token auth the module sends no id: the email identifies one of the pair.
    no_id = {k: v for k, v in occupant(jpair, "mentor", t0).items() if k != "id"}
    assert (await (await post(jclient, "occupant/joined", occupant_joined(room, no_id))).json())[
        "action"
    ] == "joined"
    assert set(await attendance_rows(jclient, meeting_id)) == {jpair.mentor_id}
    assert await summaries_sent(jclient, meeting_id) == (0, 0)


async def test_an_empty_room_is_written_as_an_empty_object_by_prosody(
    jclient: Client, jpair: Pair
) -> None:
    """Prosody's util.json encodes an empty Lua table as {}; that is an empty occupant list."""
    meeting_id, room = await live_meeting(jclient, jpair)
    body = room_destroyed(room, 1, 2, []) | {"all_occupants": {}}
    answer = await (await post(jclient, "room/destroyed", body)).json()
    assert answer["meeting_id"] == meeting_id and answer["action"] == "not ended"


# --- the call page's reports (the iframe's events) ----------------------------------------------


async def client_event(client: Client, pair: Pair, meeting_id: str, who: str, **body: Any) -> Any:
    return await client.post(
        f"/api/v1/meetings/{meeting_id}/jitsi/events", json=body, headers=pair.auth(who)
    )


async def test_hanging_up_while_the_other_is_still_in_the_call_does_not_end_it(
    jclient: Client, jpair: Pair
) -> None:
    meeting_id, room = await live_meeting(jclient, jpair)
    joined = await client_event(
        jclient, jpair, meeting_id, "mentor", event="videoConferenceJoined", room_name=room
    )
    assert (await joined.json()) == {
        "meeting_id": meeting_id,
        "recorded": "joined",
        "ended": False,
        "status": "live",
    }
    await client_event(jclient, jpair, meeting_id, "mentee", event="videoConferenceJoined")
    first = await client_event(
        jclient,
        jpair,
        meeting_id,
        "mentor",
        event="toolbarButtonClicked",
        key="hangup",
        others_in_call=1,
    )
    assert (await first.json())["ended"] is False
    rows = await attendance_rows(jclient, meeting_id)
    assert rows[jpair.mentor_id]["left_call_at"] is not None
    assert rows[jpair.mentee_id]["left_call_at"] is None

    last = await client_event(
        jclient,
        jpair,
        meeting_id,
        "mentee",
        event="toolbarButtonClicked",
        key="hangup",
        others_in_call=0,
    )
    assert (await last.json())["ended"] is True
    late = await client_event(jclient, jpair, meeting_id, "mentee", event="readyToClose")
    assert (await late.json()) | {"recorded": "left"} == {
        "meeting_id": meeting_id,
        "recorded": "left",
        "ended": False,
        "status": "ended",
    }
    assert await summaries_sent(jclient, meeting_id) == (1, 2)


async def test_end_for_everyone_ends_it_and_leaving_alone_does_not(
    jclient: Client, jpair: Pair
) -> None:
    meeting_id, _ = await live_meeting(jclient, jpair)
    await client_event(jclient, jpair, meeting_id, "mentee", event="videoConferenceJoined")
    left = await client_event(jclient, jpair, meeting_id, "mentee", event="videoConferenceLeft")
    assert (await left.json())["ended"] is False  # a dropped connection is not the end
    await client_event(jclient, jpair, meeting_id, "mentor", event="videoConferenceJoined")
    end = await client_event(
        jclient,
        jpair,
        meeting_id,
        "mentor",
        event="toolbarButtonClicked",
        key="end-meeting",
        others_in_call=1,
    )
    assert (await end.json())["ended"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "toolbarButtonClicked"}, "key"),
        ({"event": "videoConferenceJoined", "key": "hangup"}, "key"),
        ({"event": "toolbarButtonClicked", "key": "chat"}, "key"),
        ({"event": "participantKickedOut"}, "event"),
        ({"event": "readyToClose", "others_in_call": -1}, "others_in_call"),
        ({"event": "readyToClose", "extra": 1}, "extra"),
        ({"event": "videoConferenceJoined", "room_name": "ms-not-this-one"}, "room_name"),
    ],
)
async def test_bad_client_events_name_the_field(
    jclient: Client, jpair: Pair, body: dict[str, Any], field: str
) -> None:
    meeting_id, _ = await live_meeting(jclient, jpair)
    response = await client_event(jclient, jpair, meeting_id, "mentee", **body)
    assert response.status == 422, await response.text()
    assert field in [f["loc"] for f in (await response.json())["error"]["fields"]]
    assert await attendance_rows(jclient, meeting_id) == {}
