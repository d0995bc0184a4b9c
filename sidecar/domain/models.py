"""Typed records that repositories return; the API also uses them as response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Role = Literal["mentor", "mentee"]
# Where the call happens: "link" (a join URL of the pair's own) or a call platform's name (a
# plugin names itself, sidecar/platforms/names.py); the API accepts only the enabled ones.
Platform = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
MeetingStatus = Literal["scheduled", "live", "ended", "cancelled"]
AgendaSection = Literal[
    "review", "successes", "challenges", "goal_progress", "topics", "next_period"
]
AGENDA_SECTIONS: tuple[AgendaSection, ...] = (
    "review",
    "successes",
    "challenges",
    "goal_progress",
    "topics",
    "next_period",
)
GoalStatus = Literal["active", "achieved", "dropped"]
ProgressStatus = Literal["on_track", "at_risk", "blocked", "done"]
ActionStatus = Literal["open", "done", "dropped"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(Record):
    id: str
    name: str
    email: str
    timezone: str
    locale: str
    about: str
    photo_updated_at: datetime | None  # None: no photo; else GET /api/v1/people/{id}/photo
    created_at: datetime
    updated_at: datetime


class Mentorship(Record):
    id: str
    title: str
    mentor_id: str | None
    mentee_id: str | None
    summary_webhook_url: str | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    def role_of(self, person_id: str) -> Role | None:
        if person_id == self.mentor_id:
            return "mentor"
        if person_id == self.mentee_id:
            return "mentee"
        return None


# The panel offers to revisit a confirmed agreement after this many meetings.
REVISIT_AGREEMENT_EVERY = 4


class Confirmation(Record):
    person_id: str
    confirmed_at: datetime


class Agreement(Record):
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
    confirmations: list[Confirmation]  # for this version only: a change asks both again
    confirmed_by_both: bool
    revisit_due: bool


class GoalProgress(Record):
    id: str
    goal_id: str
    entry_date: date
    note: str
    status: ProgressStatus
    created_by: str
    created_at: datetime


class Goal(Record):
    id: str
    mentorship_id: str
    title: str
    description: str
    status: GoalStatus
    progress: list[GoalProgress]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class Meeting(Record):
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
    sequence: int
    ended_by: str | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    series_id: str | None = None  # the series (POST .../schedule) it was planned in, if any
    reopened_at: datetime | None = None
    reopened_by: str | None = None
    reopen_count: int = 0


class AgendaItem(Record):
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


class ActionItem(Record):
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


class MeetingAgreement(Record):
    id: str
    meeting_id: str
    text: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class Summary(Record):
    meeting_id: str
    body_markdown: str
    created_by: str | None
    created_at: datetime
    updated_by: str | None
    updated_at: datetime
    revision: int = 1  # 2 and up: corrected after the meeting was reopened


class AccessToken(Record):
    id: str
    person_id: str
    kind: Literal["api", "session"]
    label: str
    # For a browser session: the device it was made on, e.g. "Firefox on Android".
    device: str = ""
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class Invite(Record):
    mentorship_id: str
    role: Role
    created_by: str
    created_at: datetime
    expires_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
