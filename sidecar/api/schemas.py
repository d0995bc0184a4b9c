"""Request and response bodies of the API. Requests forbid unknown fields.

Responses are the API's own models: a repository's record (sidecar/domain/models.py) is served
through its `...Out` model below, so a field added to a record for the service's own use (such
as `Meeting.sequence`, the calendar revision) stays inside until it is listed here.

PATCH bodies: an omitted field stays as it is; `null` is accepted only where the field may be
empty (e.g. a due date), so a stray null is a clear 422 rather than a broken row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    NaiveDatetime,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from sidecar.domain.models import (
    ActionStatus,
    AgendaSection,
    GoalStatus,
    MeetingStatus,
    Platform,
    ProgressStatus,
    Role,
)
from sidecar.prompts import PromptKind
from sidecar.timezones import canonical_zone


def _known_timezone(value: str) -> str:
    try:
        if len(value) > 64:
            raise ValueError("too long")
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError("not a known IANA time zone, e.g. 'Europe/Lisbon'") from exc
    return canonical_zone(value)  # "Asia/Calcutta" is stored as "Asia/Kolkata"


# Meetings are planned in this range: dates far outside it are typing mistakes, and at the ends
# of what datetime holds (years 1 and 9999) time zone conversions overflow.
MEETING_YEARS = (2000, 2200)


def _plausible_meeting_time(value: datetime) -> datetime:
    first, last = MEETING_YEARS
    if not first <= value.year <= last:
        raise PydanticCustomError("meeting_year", f"must be between the years {first} and {last}")
    return value


_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("not a BCP 47 language tag, e.g. 'pt-BR'")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(max_length=8000)]
TimeZone = Annotated[str, AfterValidator(_known_timezone)]
Locale = Annotated[str, StringConstraints(max_length=35), AfterValidator(_locale)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MeetingTime = Annotated[AwareDatetime, AfterValidator(_plausible_meeting_time)]


def _unchanged() -> Any:
    """Default of a PATCH field: omitted means keep; typed Any so mypy accepts the None.

    The None is not the field's value, so the JSON Schema shows no default (a default that the
    field's own type refuses makes the OpenAPI document invalid)."""
    return Field(default=None, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Input that is stored refuses NUL; a model whose text is never stored may take it.
    refuses_nul: ClassVar[bool] = True

    @field_validator("*")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        """No one types a NUL character, and PostgreSQL refuses it in any text column."""
        if cls.refuses_nul and _holds_nul(value):
            raise PydanticCustomError("nul_character", "must not contain the NUL character")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller actually sent, as plain Python values."""
        data = self.model_dump(exclude_unset=True)
        return {k: str(v) if isinstance(v, HttpUrl) else v for k, v in data.items()}


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Path parameters, by name: every `{name}` in a route is one of these (routing.py refuses a route
# with another), so the OpenAPI document types it and a malformed one answers 404 like an unknown
# one. Ids are new_id()'s URL-safe characters; codes are new_secret()'s `prefix_` and more.
PathId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PathCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
PATH_PARAMETERS: dict[str, Any] = {
    "code": PathCode,
    **dict.fromkeys(
        (
            "action_item_id",
            "agenda_item_id",
            "agreement_id",
            "goal_id",
            "meeting_id",
            "mentorship_id",
            "person_id",
            "token_id",
        ),
        PathId,
    ),
}


class Served(Output):
    """A repository record as the API serves it: only the fields declared here."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, record: object) -> Self:
        return cls.model_validate(record, from_attributes=True)

    @classmethod
    def all(cls, records: Iterable[object]) -> list[Self]:
        return [cls.of(record) for record in records]


class PersonOut(Served):
    id: str
    name: str
    email: str
    timezone: str
    locale: str
    about: str
    photo_updated_at: datetime | None = Field(
        description="None: no photo; else GET /api/v1/people/{id}/photo."
    )
    created_at: datetime
    updated_at: datetime


class AccessTokenOut(Served):
    id: str
    person_id: str
    kind: Literal["api", "session"]
    label: str
    device: str = Field(description='For a browser session: e.g. "Firefox on Android".')
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ConfirmationOut(Served):
    person_id: str
    confirmed_at: datetime


class AgreementOut(Served):
    meeting_cadence: str
    communication_channels: str
    communication_frequency: str
    confidentiality: str
    feedback_and_encouragement: str
    objectives: str
    cultural_differences: str
    updated_by: str
    updated_at: datetime
    version: int
    confirmations: list[ConfirmationOut] = Field(
        description="Of this version only: a change asks both again."
    )
    confirmed_by_both: bool
    revisit_due: bool


class GoalProgressOut(Served):
    id: str
    goal_id: str
    entry_date: date
    note: str
    status: ProgressStatus
    created_by: str
    created_at: datetime


class GoalOut(Served):
    id: str
    mentorship_id: str
    title: str
    description: str
    status: GoalStatus
    progress: list[GoalProgressOut]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class MeetingOut(Served):
    id: str
    mentorship_id: str
    title: str
    scheduled_start: datetime
    scheduled_end: datetime
    platform: Platform
    join_url: str | None
    status: MeetingStatus
    started_at: datetime | None
    ended_at: datetime | None
    agenda_sent_at: datetime | None
    agenda_sent_by: str | None
    ended_by: str | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
    series_id: str | None = Field(description="The series (POST .../schedule) it was planned in.")
    reopened_at: datetime | None
    reopened_by: str | None
    reopen_count: int


class AgendaItemOut(Served):
    id: str
    meeting_id: str
    section: AgendaSection
    text: str
    position: int
    done: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class ActionItemOut(Served):
    id: str
    mentorship_id: str
    text: str
    owner_id: str | None
    due_date: date | None
    status: ActionStatus
    created_in_meeting_id: str | None
    closed_in_meeting_id: str | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class MeetingAgreementOut(Served):
    id: str
    meeting_id: str
    text: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


# --- people and access -------------------------------------------------------------------------


class ProfileIn(Input):
    name: Name
    email: EmailStr
    timezone: TimeZone
    locale: Locale = "en"
    about: LongText = ""


class ProfilePatch(Input):
    name: Name = _unchanged()
    email: EmailStr = _unchanged()
    timezone: TimeZone = _unchanged()
    locale: Locale = _unchanged()
    about: LongText = _unchanged()


class MentorshipBrief(Output):
    id: str
    title: str
    role: Role
    other: PersonOut | None
    next_meeting_id: str | None
    next_meeting_start: datetime | None = None  # for "Open the next meeting — Thu 4 Dec, 14:00"
    next_meeting_status: MeetingStatus | None = None  # "live": it is on now
    invite_pending: bool
    erasure: ErasurePlan | None = None


class MeOut(Output):
    person: PersonOut
    mentorships: list[MentorshipBrief]
    profile_erasure: ProfileErasurePlan | None = Field(
        default=None, description="Set while an erasure of my profile is planned."
    )


class TokenCreate(Input):
    label: Annotated[str, StringConstraints(max_length=100)] = ""


class TokenCreated(Output):
    token: str = Field(description="The secret. Shown once; only its hash is stored.")
    info: AccessTokenOut


class TokenList(Output):
    tokens: list[AccessTokenOut]


class SigninLink(Output):
    signin_url: str
    expires_at: datetime


class SigninRequest(Input):
    email: EmailStr


class SigninRequested(Output):
    message: str = Field(description="The same whether or not the address is known.")


class Session(Output):
    """A browser signed in as me: one per device (each sign-in link opened makes one)."""

    id: str
    device: str = Field(description='The browser and system, e.g. "Firefox on Android".')
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    current: bool = Field(description="The session of the browser asking.")


class SessionList(Output):
    sessions: list[Session]


# --- mentorships -------------------------------------------------------------------------------


class MentorshipCreate(Input):
    title: Title = "Mentoring"
    role: Role
    me: ProfileIn | None = Field(
        default=None, description="Required when anonymous: the new person's profile."
    )


class MentorshipPatch(Input):
    title: Title = _unchanged()
    summary_webhook_url: HttpUrl | None = _unchanged()


class MentorshipOut(Output):
    id: str
    title: str
    created_at: datetime
    created_by: str
    mentor: PersonOut | None
    mentee: PersonOut | None
    agreement: AgreementOut
    my_role: Role
    invite_pending: bool
    summary_webhook_url: str | None
    erasure: ErasurePlan | None = Field(
        default=None, description="Set while an erasure of the mentorship is planned."
    )


class MentorshipCreated(Output):
    mentorship: MentorshipOut
    invite_url: str
    token: str | None = Field(description="A new person's access token, shown once.")
    signin_url: str | None


class MentorshipList(Output):
    mentorships: list[MentorshipOut]


class InviteCreated(Output):
    invite_url: str
    role: Role
    expires_at: datetime


class Inviter(Output):
    name: str
    timezone: str


class InvitePreview(Output):
    mentorship_title: str
    role: Role
    invited_by: Inviter
    expires_at: datetime


class InviteAccepted(Output):
    mentorship: MentorshipOut
    token: str | None = Field(description="A new person's access token, shown once.")
    signin_url: str | None


class InviteAccept(Input):
    me: ProfileIn | None = Field(
        default=None, description="Required when anonymous: the new person's profile."
    )


class AgreementPatch(Input):
    meeting_cadence: LongText = _unchanged()
    communication_channels: LongText = _unchanged()
    communication_frequency: LongText = _unchanged()
    confidentiality: LongText = _unchanged()
    feedback_and_encouragement: LongText = _unchanged()
    objectives: LongText = _unchanged()
    cultural_differences: LongText = _unchanged()


# --- goals -------------------------------------------------------------------------------------


class GoalCreate(Input):
    title: Title
    description: LongText = ""


class GoalPatch(Input):
    title: Title = _unchanged()
    description: LongText = _unchanged()
    status: GoalStatus = _unchanged()


class ProgressCreate(Input):
    entry_date: date | None = Field(default=None, description="Defaults to today (UTC).")
    note: ShortText
    status: ProgressStatus = "on_track"


class GoalList(Output):
    goals: list[GoalOut]


# --- meetings and agenda -----------------------------------------------------------------------


class MeetingCreate(Input):
    title: Title = "Mentoring session"
    scheduled_start: MeetingTime
    scheduled_end: MeetingTime
    platform: Platform = "link"
    join_url: HttpUrl | None = None


class MeetingPatch(Input):
    title: Title = _unchanged()
    scheduled_start: MeetingTime = _unchanged()
    scheduled_end: MeetingTime = _unchanged()
    platform: Platform = _unchanged()
    join_url: HttpUrl | None = _unchanged()
    # Not "cancelled": POST /meetings/{id}/cancel tells both people and their calendars.
    status: Literal["scheduled", "live", "ended"] = _unchanged()


class MeetingList(Output):
    meetings: list[MeetingOut]


class PhaseIn(Input):
    every_weeks: Annotated[int, Field(ge=1, le=8)]
    count: Annotated[int, Field(ge=1, le=26)]


class ScheduleCreate(Input):
    """A series of meetings; by default weekly for six weeks, then every two weeks for six."""

    first_start: Annotated[NaiveDatetime, AfterValidator(_plausible_meeting_time)] = Field(
        description="Wall-clock time of the first meeting in `timezone`, without an offset."
    )
    timezone: TimeZone
    duration_minutes: Annotated[int, Field(ge=10, le=240)] = 45
    phases: Annotated[list[PhaseIn], Field(min_length=1, max_length=4)] = Field(
        default_factory=lambda: [PhaseIn(every_weeks=1, count=6), PhaseIn(every_weeks=2, count=6)]
    )
    title: Title = "Mentoring session"
    platform: Platform = "link"
    join_url: HttpUrl | None = None
    allow_past: bool = Field(
        default=False,
        description="Plan it even though the first meeting is in the past (e.g. to record a "
        "series already begun); without it a past first_start is refused.",
    )


class ScheduleOut(Output):
    meetings: list[MeetingOut] = Field(description="The new series, in order.")
    replaced: list[MeetingOut] = Field(
        description="Upcoming meetings of earlier series, now cancelled (their open agenda "
        "items moved to the new series' first meeting)."
    )


class EndMeeting(Input):
    even_if_empty: bool = Field(
        default=False,
        description="End it even though nobody joined and nothing was written (otherwise 409 "
        "with code nobody_joined: cancelling is likely what was meant).",
    )


class CalendarFeed(Output):
    url: str = Field(description="Private: anyone with this URL sees your meetings. Shown once.")


class AgendaCreate(Input):
    section: AgendaSection
    text: ShortText


class AgendaPatch(Input):
    text: ShortText = _unchanged()
    done: bool = _unchanged()
    section: AgendaSection = _unchanged()
    position: Annotated[int, Field(ge=0, le=10_000)] = _unchanged()


class AgendaList(Output):
    items: list[AgendaItemOut]
    carried_over: list[ActionItemOut] = Field(
        description="Open next steps from earlier meetings, reviewed at the start of this one."
    )


# --- action items ------------------------------------------------------------------------------


_CONFIRM_PAST_DUE = Field(
    default=False,
    description="A due date before today (in my time zone) is refused with a 422 on due_date "
    "unless this is true.",
)


class ActionCreate(Input):
    text: ShortText
    owner_id: Id | None = None
    due_date: date | None = None
    created_in_meeting_id: Id | None = None
    confirm_past_due: bool = _CONFIRM_PAST_DUE


class ActionPatch(Input):
    text: ShortText = _unchanged()
    owner_id: Id | None = _unchanged()
    due_date: date | None = _unchanged()
    status: ActionStatus = _unchanged()
    closed_in_meeting_id: Id | None = _unchanged()
    confirm_past_due: bool = _CONFIRM_PAST_DUE


class ActionQuery(Input):
    status: ActionStatus | None = None


class ActionList(Output):
    items: list[ActionItemOut]


# --- notes -------------------------------------------------------------------------------------


class NotesOut(Output):
    meeting_id: str
    markdown: str


# --- prompts -----------------------------------------------------------------------------------


class PromptQuery(Input):
    kind: PromptKind | None = None


class PromptOut(Output):
    id: str
    kind: PromptKind
    kind_title: str
    text: str


class PromptList(Output):
    prompts: list[PromptOut]


# --- summary -----------------------------------------------------------------------------------


class Delivery(Output):
    person_id: str | None
    recipient: str
    state: Literal["queued", "retrying", "sent"]
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class SummaryOut(Output):
    meeting_id: str
    body_markdown: str
    created_at: datetime
    delivery: list[Delivery]  # of the latest summary: each person's last email
    corrected: bool = Field(
        default=False, description="Rewritten after the meeting was reopened and ended again."
    )
    reopen_until: datetime | None = Field(
        default=None,
        description="Until when POST .../reopen is accepted (MENTOR_SIDECAR_REOPEN_HOURS after "
        "the end); None when the meeting is not ended.",
    )


class SummaryDraft(Output):
    meeting_id: str
    body_markdown: str = Field(description="What the summary would say if the call ended now.")


class SearchQuery(Input):
    refuses_nul = False  # nothing of it is stored: the search cuts words out of it
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SearchHit(Output):
    meeting_id: str
    title: str
    scheduled_start: datetime
    snippet: str


class SearchResults(Output):
    hits: list[SearchHit]


class MeetingAgreementIn(Input):
    text: ShortText


class MeetingAgreementList(Output):
    agreements: list[MeetingAgreementOut]


# --- privacy -----------------------------------------------------------------------------------


class MentorshipDeletion(Input):
    """Erasing needs an explicit yes; it happens after the grace period, or at once with none."""

    confirm: Literal[True] = Field(
        description="Must be true: the mentorship and everything of it is erased for both people."
    )


class ProfileDeletion(Input):
    confirm: Literal[True] = Field(
        description="Must be true: my profile, photo, sign-ins and every mentorship of mine go."
    )


class ErasurePlan(Output):
    """An erasure waiting out its grace period (MENTOR_SIDECAR_ERASE_GRACE_DAYS)."""

    erase_after: datetime
    requested_by: str
    reason: Literal["mentorship", "profile"] = Field(
        description="'profile': the requester is erasing their profile; only they can undo."
    )
    can_undo: bool = Field(
        description="Whether it is undone here (POST …/erasure/undo); a profile's erasure is "
        "undone by its person with POST /me/erasure/undo."
    )


class ProfileErasurePlan(Output):
    erase_after: datetime
