"""Prosody's event_sync module, received: the server's own account of each call.

jitsi-contrib/prosody-plugins `event_sync` POSTs JSON to `{api_prefix}/events/room/created`,
`…/room/destroyed`, `…/occupant/joined` and `…/occupant/left`; with `api_prefix` =
`https://HOST/jitsi` those are the four routes here. Every request must carry
`Authorization: Bearer <MENTOR_SIDECAR_JITSI_EVENT_SECRET>` (the module's `api_headers`),
compared in constant time; anything else is a 401 with a JSON error.

Bodies (the module's README): `event_name`, `room_name`, `room_jid`, `is_breakout`
(+ `breakout_room_id`), `created_at`/`destroyed_at` (Unix seconds), `occupant` {`occupant_jid`,
`joined_at`, `left_at`, and with token auth `name`, `email`, `id` from the token's context.user},
and for a destroyed room `all_occupants`. Fields the module may add (`active_occupants_count`,
`total_dominant_speaker_time`, the full user context) are accepted and ignored.

A room no meeting uses, a breakout room, or an occupant who is not one of the pair is answered
200 with what was ignored and why: the module retries only on 5xx, and these will not improve.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sidecar import call_events
from sidecar.api.errors import ApiError, InputRejected
from sidecar.api.routing import parse_json_body
from sidecar.domain.ids import utcnow
from sidecar.keys import REPOS

from .config import JITSI
from .rooms import meeting_for_room, member_named
from .store import JITSI_STORE

log = logging.getLogger(__name__)

PREFIX = "/jitsi/events"
PLATFORM = "jitsi"
# path below PREFIX -> the event_name the module sends there
EVENTS = {
    "room/created": "muc-room-created",
    "room/destroyed": "muc-room-destroyed",
    "occupant/joined": "muc-occupant-joined",
    "occupant/left": "muc-occupant-left",
}
# Unix seconds (Lua os.time()), up to the year 3000.
Timestamp = Annotated[float, Field(ge=0, le=32503680000)]


def _empty_table_is_a_list(value: Any) -> Any:
    # Prosody's util.json writes an empty Lua table as {}: a room nobody joined.
    return [] if value == {} else value


class Occupant(BaseModel):
    model_config = ConfigDict(extra="allow")

    occupant_jid: str = Field(max_length=3071)
    joined_at: Timestamp | None = None
    left_at: Timestamp | None = None
    name: str | None = Field(None, max_length=1000)
    email: str | None = Field(None, max_length=320)
    id: str | None = Field(None, max_length=200)


class SyncEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    event_name: str = Field(max_length=100)
    room_name: str = Field(min_length=1, max_length=1023)
    room_jid: str | None = Field(None, max_length=3071)
    is_breakout: bool = False
    breakout_room_id: str | None = Field(None, max_length=1023)
    created_at: Timestamp | None = None
    destroyed_at: Timestamp | None = None
    occupant: Occupant | None = None
    all_occupants: Annotated[
        list[Occupant], BeforeValidator(_empty_table_is_a_list), Field(max_length=1000)
    ] = []


def _when(seconds: float | None) -> datetime:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else utcnow()


def _authenticate(request: web.Request) -> None:
    secret = request.app[JITSI].event_secret
    if not secret:
        raise ApiError(
            401,
            "Jitsi events are off: MENTOR_SIDECAR_JITSI_EVENT_SECRET is not set",
            {"WWW-Authenticate": 'Bearer realm="mentor-sidecar-jitsi"'},
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = secret.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise ApiError(
            401,
            "Authorization: expected 'Bearer <MENTOR_SIDECAR_JITSI_EVENT_SECRET>' "
            "(event_sync's api_headers)",
            {"WWW-Authenticate": 'Bearer realm="mentor-sidecar-jitsi"'},
        )


async def _parse(request: web.Request, path: str) -> SyncEvent:
    event = await parse_json_body(SyncEvent, request)
    expected = EVENTS[path]
    if event.event_name != expected:
        raise InputRejected([{"loc": "event_name", "msg": f"expected {expected} at {path}"}])
    if path.startswith("occupant/") and event.occupant is None:
        raise InputRejected([{"loc": "occupant", "msg": f"required for {expected}"}])
    return event


def _answer(meeting_id: str | None, action: str, detail: str = "") -> web.Response:
    return web.json_response({"meeting_id": meeting_id, "action": action, "detail": detail})


async def handle(request: web.Request) -> web.Response:
    path = request.match_info["kind"] + "/" + request.match_info["what"]
    if path not in EVENTS:
        raise ApiError(404, f"{PREFIX}/{path}: event_sync posts to " + ", ".join(EVENTS))
    _authenticate(request)
    event = await _parse(request, path)
    app, repos = request.app, request.app[REPOS]
    meeting_id = await meeting_for_room(app[JITSI_STORE], event.room_name)
    if meeting_id is None:
        return _answer(None, "ignored", "no meeting uses this room")
    if event.is_breakout:
        return _answer(meeting_id, "ignored", "a breakout room; the meeting is its main room")
    mentorship = await repos.meetings.mentorship_for_service(meeting_id)
    people = [await repos.people.get(p) for p in (mentorship.mentor_id, mentorship.mentee_id) if p]

    if path == "room/created":
        return _answer(meeting_id, "noted")
    if path.startswith("occupant/"):
        occupant = event.occupant
        if occupant is None:  # _parse refuses this already; checked again for the type
            raise InputRejected([{"loc": "occupant", "msg": f"required for {event.event_name}"}])
        person = member_named(mentorship, people, person_id=occupant.id, email=occupant.email)
        if person is None:
            return _answer(meeting_id, "ignored", "the occupant is not one of the pair")
        if path == "occupant/joined":
            await call_events.joined(
                app, meeting_id, person.id, platform=PLATFORM, at=_when(occupant.joined_at)
            )
            return _answer(meeting_id, "joined")
        await call_events.left(
            app, meeting_id, person.id, platform=PLATFORM, at=_when(occupant.left_at)
        )
        return _answer(meeting_id, "left")

    # room/destroyed: fill in anyone whose own events went missing, then end the meeting.
    for occupant in event.all_occupants:
        person = member_named(mentorship, people, person_id=occupant.id, email=occupant.email)
        if person is None:
            continue
        if occupant.joined_at is not None:
            await call_events.joined(
                app, meeting_id, person.id, platform=PLATFORM, at=_when(occupant.joined_at)
            )
        left_at = _when(occupant.left_at or event.destroyed_at)
        await call_events.left(app, meeting_id, person.id, platform=PLATFORM, at=left_at)
    ended = await call_events.ended(app, meeting_id, platform=PLATFORM)
    if ended:
        return _answer(meeting_id, "ended", "the summary is on its way")
    status = (await repos.meetings.read_for_service(meeting_id)).status
    detail = "it had already ended" if status == "ended" else f"the meeting is {status}, not live"
    return _answer(meeting_id, "not ended", detail)


def add_routes(app: web.Application) -> None:
    path = PREFIX + "/{kind:room|occupant}/{what:created|destroyed|joined|left}"
    app.router.add_post(path, handle)
