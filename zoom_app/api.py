"""The Zoom App's JSON endpoints, declared in the API registry (OpenAPI, access matrix).

- `/me/zoom…`: my Zoom link (status, disconnect, a one-time link code for linking inside Zoom,
  a check against Zoom that refreshes the token when due).
- `/zoom/meeting-context`: which of my mentorships this Zoom meeting is (remembered per Zoom
  meeting number, so every occurrence of a recurring meeting), and its current meeting.
- `/mentorships/{id}/zoom-meeting`: remember that choice (members only).
- `/meetings/{id}/zoom-ended`: the Zoom client said the meeting ended (`onMeeting`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import StringConstraints

from sidecar import call_events
from sidecar.api.auth import public_origin
from sidecar.api.endpoints.views import mentorship_brief
from sidecar.api.errors import ApiError
from sidecar.api.routing import Call
from sidecar.api.routing import api as core_api
from sidecar.api.schemas import Input, MentorshipBrief, Output
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Meeting
from zoom_app import client
from zoom_app.client import ZoomError
from zoom_app.state import ZOOM

TAGS = ("zoom",)
PLATFORM = "zoom"
api = core_api.for_platform(PLATFORM)
LINK_CODE_MINUTES = 10
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I

ZoomMeetingNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6,15}$")
]
ZoomUuid = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ZoomAccountOut(Output):
    configured: bool  # the server has a Zoom App
    linked: bool
    zoom_email: str | None
    linked_at: datetime | None
    connect_url: str  # start the browser OAuth flow here


class ZoomLinkCode(Output):
    code: str
    expires_at: datetime


class ZoomMeetingIn(Input):
    zoom_meeting_id: ZoomMeetingNumber  # the meeting number (getMeetingContext().meetingID)
    meeting_uuid: ZoomUuid | None = None  # this occurrence (getMeetingUUID().meetingUUID)


class ZoomMeetingContextOut(Output):
    zoom_meeting_id: str
    mentorship_id: str | None  # the mentorship this Zoom meeting is linked to, for me
    meeting_id: str | None  # that mentorship's meeting to open now
    mentorships: list[MentorshipBrief]  # mine, to pick from


class ZoomMeetingLinkOut(Output):
    zoom_meeting_id: str
    mentorship_id: str
    meeting_id: str | None


class ZoomEndedOut(Output):
    meeting_id: str
    ended: bool  # False: it had already ended (one summary whatever the number of signals)


async def _account_out(call: Call[None]) -> ZoomAccountOut:
    state = call.request.app[ZOOM]
    connect_url = public_origin(call.request) + "/zoom/install"
    try:
        account = await state.store.account(call.viewer)
    except NotFound:
        return ZoomAccountOut(
            configured=state.configured,
            linked=False,
            zoom_email=None,
            linked_at=None,
            connect_url=connect_url,
        )
    return ZoomAccountOut(
        configured=state.configured,
        linked=True,
        zoom_email=account.zoom_email or None,
        linked_at=account.linked_at,
        connect_url=connect_url,
    )


@api.route("GET", "/me/zoom", summary="My Zoom link", response=ZoomAccountOut, tags=TAGS)
async def get_my_zoom(call: Call[None]) -> ZoomAccountOut:
    return await _account_out(call)


@api.route("DELETE", "/me/zoom", summary="Disconnect my Zoom account", status=204, tags=TAGS)
async def delete_my_zoom(call: Call[None]) -> None:
    await call.request.app[ZOOM].store.unlink(call.viewer)


@api.route(
    "POST",
    "/me/zoom/link-code",
    summary="A one-time code (10 minutes) that links my account from inside the Zoom App",
    response=ZoomLinkCode,
    status=201,
    tags=TAGS,
)
async def create_link_code(call: Call[None]) -> ZoomLinkCode:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    expires = await call.request.app[ZOOM].store.create_link_code(
        call.viewer, code, timedelta(minutes=LINK_CODE_MINUTES)
    )
    return ZoomLinkCode(code=code, expires_at=expires)


@api.route(
    "POST",
    "/me/zoom/check",
    summary="Ask Zoom who my linked account is (refreshing its token when due)",
    response=ZoomAccountOut,
    tags=TAGS,
)
async def check_my_zoom(call: Call[None]) -> ZoomAccountOut:
    state = call.request.app[ZOOM]
    try:
        account = await state.store.account(call.viewer)
    except NotFound:
        return await _account_out(call)
    try:
        token = await client.access_token(state, account)
        user = await client.user_me(state, token)
    except ZoomError as exc:
        raise ApiError(502, f"{exc.field}: {exc.message}") from exc
    if user.id != account.zoom_user_id:
        raise ApiError(502, "zoom: Zoom names another user than the one linked; connect again")
    if user.email != account.zoom_email:
        await state.store.update_email(call.viewer, user.email)
    return await _account_out(call)


async def _meeting_to_open(call: Call[ZoomMeetingIn], mentorship_id: str) -> Meeting | None:
    """The pair's meeting this Zoom meeting is now: the one this occurrence was tied to, else the
    live or about-to-start one, else the next one; the occurrence is then tied to it."""
    store = call.request.app[ZOOM].store
    uuid = call.body.meeting_uuid
    if uuid:
        known = await store.meeting_for_instance(uuid)
        if known is not None:
            try:
                meeting = await call.repos.meetings.get(known, viewer=call.viewer)
            except NotFound:
                meeting = None
            if meeting is not None and meeting.mentorship_id == mentorship_id:
                return meeting
    now = utcnow()
    meeting = await call.repos.meetings.for_call_at(mentorship_id, at=now)
    if meeting is None:
        meeting = await call.repos.meetings.next_for(mentorship_id, after=now)
    if meeting is not None and uuid:
        await store.remember_instance(uuid, call.body.zoom_meeting_id, meeting.id)
    return meeting


@api.route(
    "POST",
    "/zoom/meeting-context",
    summary="Which of my mentorships this Zoom meeting is, and the meeting to open",
    body=ZoomMeetingIn,
    response=ZoomMeetingContextOut,
    example={"zoom_meeting_id": "85746065432", "meeting_uuid": "4444AAAiAAAAAiAiAiiAii=="},
    tags=TAGS,
)
async def meeting_context(call: Call[ZoomMeetingIn]) -> ZoomMeetingContextOut:
    store = call.request.app[ZOOM].store
    number = call.body.zoom_meeting_id
    mentorships = await call.repos.mentorships.list_for(call.viewer)
    briefs = [await mentorship_brief(call.repos, m, call.viewer) for m in mentorships]
    mine = {m.id for m in mentorships}
    # The latest link of this Zoom meeting to one of my mentorships (others' stay theirs).
    linked = next((m for m in await store.mentorships_linked_to(number) if m in mine), None)
    meeting = await _meeting_to_open(call, linked) if linked else None
    return ZoomMeetingContextOut(
        zoom_meeting_id=number,
        mentorship_id=linked,
        meeting_id=meeting.id if meeting else None,
        mentorships=briefs,
    )


@api.route(
    "PUT",
    "/mentorships/{mentorship_id}/zoom-meeting",
    summary="Remember that this Zoom meeting (every occurrence) is this mentorship's",
    body=ZoomMeetingIn,
    response=ZoomMeetingLinkOut,
    example={"zoom_meeting_id": "85746065432"},
    tags=TAGS,
)
async def link_zoom_meeting(call: Call[ZoomMeetingIn]) -> ZoomMeetingLinkOut:
    mentorship_id = call.path("mentorship_id")
    store = call.request.app[ZOOM].store
    await call.repos.mentorships.get(mentorship_id, viewer=call.viewer)  # members only: else 404
    await store.link_meeting(call.body.zoom_meeting_id, mentorship_id, by=call.viewer)
    meeting = await _meeting_to_open(call, mentorship_id)
    return ZoomMeetingLinkOut(
        zoom_meeting_id=call.body.zoom_meeting_id,
        mentorship_id=mentorship_id,
        meeting_id=meeting.id if meeting else None,
    )


@api.route(
    "POST",
    "/meetings/{meeting_id}/zoom-ended",
    summary="The Zoom client says the meeting ended: end it (one summary, however often)",
    response=ZoomEndedOut,
    tags=TAGS,
)
async def zoom_meeting_ended(call: Call[None]) -> ZoomEndedOut:
    meeting = await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    # The core ends only a live meeting: a Zoom call over before its meeting began ends nothing.
    ended = await call_events.ended(call.request.app, meeting.id, platform=PLATFORM, by=call.viewer)
    return ZoomEndedOut(meeting_id=meeting.id, ended=ended)
