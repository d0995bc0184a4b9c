"""SQL lives here: one repository per aggregate, each returning typed records.

Every read of a pair's data takes the `viewer` (a person id) and filters by membership in SQL, so a
person outside the pair gets NotFound, exactly as for an id that does not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sidecar.db.connection import Database
from sidecar.db.repositories.action_items import ActionItemRepository
from sidecar.db.repositories.agreements import MeetingAgreementRepository
from sidecar.db.repositories.attendance import AttendanceRepository
from sidecar.db.repositories.calendar_feeds import CalendarFeedRepository
from sidecar.db.repositories.erasures import ErasureRepository
from sidecar.db.repositories.goals import GoalRepository
from sidecar.db.repositories.meetings import AgendaRepository, MeetingRepository
from sidecar.db.repositories.mentorships import MentorshipRepository
from sidecar.db.repositories.notes import NotesRepository
from sidecar.db.repositories.outbox import OutboxRepository
from sidecar.db.repositories.people import PeopleRepository
from sidecar.db.repositories.privacy import PrivacyRepository
from sidecar.db.repositories.reminders import ReminderRepository
from sidecar.db.repositories.step_reminders import StepReminderRepository
from sidecar.db.repositories.summaries import SummaryRepository
from sidecar.db.repositories.tokens import TokenRepository


@dataclass(frozen=True)
class Repositories:
    # The handle stays private: code acting as the service asks a repository (issue 16).
    _db: Database
    people: PeopleRepository
    tokens: TokenRepository
    mentorships: MentorshipRepository
    goals: GoalRepository
    meetings: MeetingRepository
    agenda: AgendaRepository
    action_items: ActionItemRepository
    summaries: SummaryRepository
    calendar_feeds: CalendarFeedRepository
    meeting_agreements: MeetingAgreementRepository
    privacy: PrivacyRepository
    erasures: ErasureRepository
    outbox: OutboxRepository
    reminders: ReminderRepository
    step_reminders: StepReminderRepository
    attendance: AttendanceRepository
    notes: NotesRepository

    @classmethod
    def over(cls, db: Database) -> Repositories:
        return cls(
            db,
            people=PeopleRepository(db),
            tokens=TokenRepository(db),
            mentorships=MentorshipRepository(db),
            goals=GoalRepository(db),
            meetings=MeetingRepository(db),
            agenda=AgendaRepository(db),
            action_items=ActionItemRepository(db),
            summaries=SummaryRepository(db),
            calendar_feeds=CalendarFeedRepository(db),
            meeting_agreements=MeetingAgreementRepository(db),
            privacy=PrivacyRepository(db),
            erasures=ErasureRepository(db),
            outbox=OutboxRepository(db),
            reminders=ReminderRepository(db),
            step_reminders=StepReminderRepository(db),
            attendance=AttendanceRepository(db),
            notes=NotesRepository(db),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Several repositories' calls committed together (a service's read-then-write)."""
        async with self._db.transaction():
            yield

    async def ping(self) -> None:
        """The database answers (the readiness check); raises when it does not."""
        await self._db.fetch_value("SELECT 1")
