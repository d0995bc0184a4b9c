"""The call page's two API endpoints: what to join (room, token, name), and what the iframe saw.

Declared with the registry, so they are in the OpenAPI document and the access matrix like every
other endpoint: only the pair's two members get anything, anyone else a 401 or 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sidecar import call_events
from sidecar.api.routing import Call
from sidecar.api.routing import api as core_api
from sidecar.domain.errors import Invalid
from sidecar.domain.ids import utcnow

from .config import JITSI, Kind
from .rooms import room_for
from .store import JITSI_STORE
from .tokens import room_token

TAGS = ("jitsi",)
PLATFORM = "jitsi"
api = core_api.for_platform(PLATFORM)
PUBLIC_SERVER_WARNING = (
    "This service embeds the public meet.jit.si, which ends embedded calls after five minutes. "
    "Ask whoever runs Mentor Sidecar to set up their own Jitsi server or JaaS."
)
NOT_CONFIGURED = (
    "Video calls with Jitsi are not set up on this Mentor Sidecar "
    "(MENTOR_SIDECAR_JITSI_BASE_URL is empty). Use the meeting's own call link instead."
)


class JitsiCallOut(BaseModel):
    """Everything the call page passes to `new JitsiMeetExternalAPI(domain, options)`."""

    meeting_id: str
    configured: bool
    message: str = Field(description="Why there is no call here, when not configured")
    kind: Kind
    base_url: str
    domain: str = Field(description="The iframe API's `domain` argument (host[:port])")
    script_url: str = Field(description="Where `external_api.js` is loaded from")
    room_name: str = Field(description="The iframe's `roomName` (JaaS: `app ID/room`)")
    jwt: str | None = Field(description="The caller's room token; null on a server without one")
    jwt_expires_at: datetime | None
    display_name: str
    email: str
    moderator: bool = Field(description="The mentor moderates the call")
    warning: str = Field(description="A problem with the configured server worth showing")


class JitsiClientEvent(BaseModel):
    """One event of the embedded call, as the iframe API reported it to the call page."""

    model_config = ConfigDict(extra="forbid")

    event: Literal[
        "videoConferenceJoined", "videoConferenceLeft", "readyToClose", "toolbarButtonClicked"
    ]
    key: Literal["hangup", "end-meeting"] | None = Field(
        None,
        validate_default=True,
        description="For toolbarButtonClicked: which button (hang up, end for everyone)",
    )
    room_name: str | None = Field(
        None, max_length=300, description="The event's roomName, checked against the meeting's"
    )
    others_in_call: int = Field(
        0,
        ge=0,
        le=50,
        description="Others still in the call, from participantJoined/participantLeft; a hang-up "
        "with nobody else left ends the meeting",
    )

    @field_validator("key")
    @classmethod
    def _key_goes_with_toolbar(cls, key: str | None, info: ValidationInfo) -> str | None:
        event = info.data.get("event")
        if event == "toolbarButtonClicked" and key is None:
            raise ValueError("toolbarButtonClicked needs the button key (hangup or end-meeting)")
        if event != "toolbarButtonClicked" and key is not None:
            raise ValueError("only toolbarButtonClicked has a button key")
        return key


class JitsiEventOut(BaseModel):
    meeting_id: str
    recorded: Literal["joined", "left"]
    ended: bool = Field(description="This event ended the meeting (its summary is on its way)")
    status: str = Field(description="The meeting's status afterwards")


@api.route(
    "GET",
    "/meetings/{meeting_id}/jitsi",
    summary="The caller's way into the meeting's Jitsi call: room, room token, display name",
    response=JitsiCallOut,
    tags=TAGS,
)
async def get_call(call: Call[None]) -> JitsiCallOut:
    repos, config = call.repos, call.request.app[JITSI]
    meeting = await repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    mentorship = await repos.mentorships.get(meeting.mentorship_id, viewer=call.viewer)
    person = await repos.people.get(call.viewer)
    moderator = mentorship.mentor_id == person.id
    if not config.enabled:
        return JitsiCallOut(
            meeting_id=meeting.id,
            configured=False,
            message=NOT_CONFIGURED,
            kind=config.kind,
            base_url="",
            domain="",
            script_url="",
            room_name="",
            jwt=None,
            jwt_expires_at=None,
            display_name=person.name,
            email=person.email,
            moderator=moderator,
            warning="",
        )
    room = await room_for(call.request.app[JITSI_STORE], meeting.id)
    token = room_token(config, room=room, person=person, moderator=moderator, now=utcnow())
    return JitsiCallOut(
        meeting_id=meeting.id,
        configured=True,
        message="",
        kind=config.kind,
        base_url=config.base_url,
        domain=config.domain,
        script_url=config.script_url,
        room_name=config.iframe_room(room),
        jwt=token.token if token else None,
        jwt_expires_at=token.expires_at if token else None,
        display_name=person.name,
        email=person.email,
        moderator=moderator,
        warning=PUBLIC_SERVER_WARNING if config.is_public_meet_jit_si else "",
    )


@api.route(
    "POST",
    "/meetings/{meeting_id}/jitsi/events",
    summary="Record what the embedded call reported: joined, left, hung up (ending the meeting)",
    body=JitsiClientEvent,
    response=JitsiEventOut,
    example={"event": "videoConferenceJoined", "others_in_call": 0},
    tags=TAGS,
)
async def post_event(call: Call[JitsiClientEvent]) -> JitsiEventOut:
    body, app = call.body, call.request.app
    meeting = await call.repos.meetings.get(call.path("meeting_id"), viewer=call.viewer)
    if body.room_name is not None and app[JITSI].enabled:
        room = await room_for(app[JITSI_STORE], meeting.id)
        # JaaS reports "app ID/room"; Jitsi lower-cases room names.
        if body.room_name.rsplit("/", 1)[-1].strip().lower() != room:
            raise Invalid("room_name", "not this meeting's Jitsi room")
    now = utcnow()
    ended = False
    if body.event == "videoConferenceJoined":
        await call_events.joined(app, meeting.id, call.viewer, platform=PLATFORM, at=now)
        recorded: Literal["joined", "left"] = "joined"
    else:
        await call_events.left(app, meeting.id, call.viewer, platform=PLATFORM, at=now)
        recorded = "left"
        over = body.key == "end-meeting" or (
            body.event in ("readyToClose", "toolbarButtonClicked") and body.others_in_call == 0
        )
        if over:
            ended = await call_events.ended(app, meeting.id, platform=PLATFORM, by=call.viewer)
    after = await call.repos.meetings.get(meeting.id, viewer=call.viewer)
    return JitsiEventOut(meeting_id=meeting.id, recorded=recorded, ended=ended, status=after.status)
