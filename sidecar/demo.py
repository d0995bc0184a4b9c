"""A demo mentorship: two people far apart, an agreement, a goal, a past and a next meeting.

Seeding is idempotent: run again, it finds the same pair and only mints fresh sign-in links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiohttp import web

from sidecar import reminders
from sidecar.db.repositories import Repositories
from sidecar.domain.ids import utcnow
from sidecar.domain.models import AgendaSection, Meeting, Mentorship, Person
from sidecar.keys import REPOS, SETTINGS

MENTOR_EMAIL = "helena.costa@mentor-sidecar.example"
MENTEE_EMAIL = "arjun.mehta@mentor-sidecar.example"


@dataclass(frozen=True)
class DemoPerson:
    id: str
    name: str
    timezone: str
    role: str
    token: str
    signin_path: str


@dataclass(frozen=True)
class DemoSeed:
    mentorship_id: str
    meeting_id: str
    mentor: DemoPerson
    mentee: DemoPerson

    def as_json(self, base_url: str) -> dict[str, object]:
        def person(p: DemoPerson) -> dict[str, str]:
            return {
                "id": p.id,
                "name": p.name,
                "timezone": p.timezone,
                "token": p.token,
                "panel_url": base_url + p.signin_path,
            }

        return {
            "mentorship_id": self.mentorship_id,
            "meeting_id": self.meeting_id,
            "mentor": person(self.mentor),
            "mentee": person(self.mentee),
        }


async def seed_demo(app: web.Application) -> DemoSeed:
    repos = app[REPOS]
    settings = app[SETTINGS]
    async with repos.transaction():
        mentorship = await _seeded(repos) or await _create(repos)
        mentor_id, mentee_id = mentorship.mentor_id, mentorship.mentee_id
        assert mentor_id is not None and mentee_id is not None, "the demo pair is complete"
        meeting = await _next_meeting(repos, mentorship.id, mentor_id, mentee_id)
        await reminders.schedule(repos, meeting, settings)
        lifetime = timedelta(minutes=settings.signin_link_ttl_minutes)
        people = []
        for person_id, role in ((mentor_id, "mentor"), (mentee_id, "mentee")):
            person = await repos.people.get(person_id)
            token, _ = await repos.tokens.issue(person.id, kind="api", label="demo")
            code = await repos.tokens.create_signin_link(person.id, lifetime)
            people.append(
                _demo_person(person, role, token, f"/signin/{code}?next=/meetings/{meeting.id}")
            )
    return DemoSeed(mentorship.id, meeting.id, mentor=people[0], mentee=people[1])


async def _seeded(repos: Repositories) -> Mentorship | None:
    """The demo's mentorship from an earlier run: the first one its mentor mentors in."""
    for mentor in await repos.people.with_email(MENTOR_EMAIL):
        for mentorship in await repos.mentorships.list_for(mentor.id):
            if mentorship.mentor_id == mentor.id:
                return mentorship
    return None


def _demo_person(person: Person, role: str, token: str, path: str) -> DemoPerson:
    return DemoPerson(person.id, person.name, person.timezone, role, token, path)


async def _next_meeting(
    repos: Repositories, mentorship_id: str, viewer: str, mentee_id: str
) -> Meeting:
    upcoming = await repos.meetings.next_for(mentorship_id, after=utcnow())
    if upcoming is not None:
        return upcoming
    start = _soon()
    meeting = await repos.meetings.create(
        mentorship_id,
        title="Weekly check-in",
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=45),
        platform="link",
        join_url=None,
        viewer=viewer,
    )
    # The mentee prepares the agenda before the meeting, so the seed writes it as the mentee.
    for section, text in _AGENDA:
        await repos.agenda.add(meeting.id, section=section, text=text, viewer=mentee_id)
    return meeting


def _soon() -> datetime:
    """The next quarter hour at least 30 minutes away, so the demo shows a countdown."""
    moment = utcnow() + timedelta(minutes=30)
    minutes = (moment.minute // 15 + 1) * 15
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)


_AGENDA: list[tuple[AgendaSection, str]] = [
    ("review", "Portfolio case study draft: sent to Helena on Monday"),
    ("review", "Book a slot to shadow a design critique"),
    ("successes", "Presented the onboarding flow to the product team; they adopted two ideas"),
    ("challenges", "Getting time with engineers across a 5½ hour gap"),
    (
        "goal_progress",
        "Lead a design critique: agreed with my manager to run the one on 9 December",
    ),
    ("topics", "How do you prepare people before a critique so feedback lands well?"),
    ("topics", "Giving feedback to someone more senior"),
    ("next_period", "Draft the critique's agenda and share it with Helena"),
]


async def _create(repos: Repositories) -> Mentorship:
    mentor = await repos.people.create(
        name="Helena Costa",
        email=MENTOR_EMAIL,
        timezone="Europe/Lisbon",
        locale="pt-PT",
        about="Design lead in Lisbon. Twenty years of product design; I ask a lot of questions.",
    )
    mentee = await repos.people.create(
        name="Arjun Mehta",
        email=MENTEE_EMAIL,
        timezone="Asia/Kolkata",
        locale="en-IN",
        about="Product designer in Bengaluru, two years in. Learning to lead design reviews.",
    )
    mentorship = await repos.mentorships.create(mentor.id, "mentor", "Design leadership mentoring")
    code, _ = await repos.mentorships.create_invite(
        mentorship.id, timedelta(hours=1), viewer=mentor.id
    )
    complete = await repos.mentorships.accept_invite(code, mentee.id)
    await repos.mentorships.update_agreement(
        mentorship.id,
        {
            "meeting_cadence": "Weekly for the first six weeks, then every two weeks. "
            "Tuesdays 14:00 Lisbon / 19:30 Bengaluru, 45 minutes.",
            "communication_channels": "Video call for meetings; email for the agenda and summary; "
            "chat for quick questions.",
            "communication_frequency": "Agenda by Monday evening; a reply to messages within two "
            "working days.",
            "confidentiality": "What we discuss stays between us unless we both agree to share it.",
            "feedback_and_encouragement": "Arjun prefers direct feedback in the call, with an "
            "example; Helena likes written feedback after the call.",
            "objectives": "Arjun leads a design critique on his own by the end of March and builds "
            "a portfolio case study.",
            "cultural_differences": "Different norms about disagreeing with senior people: we say "
            "when something feels too blunt or too polite.",
        },
        viewer=mentor.id,
    )
    # Helena has confirmed the agreement; Arjun's confirmation is the step the demo leaves open.
    await repos.mentorships.confirm_agreement(mentorship.id, viewer=mentor.id)
    goal = await repos.goals.create(
        mentorship.id,
        title="Lead a design critique on my own",
        description="Plan, run and follow up one critique with the product team by March.",
        viewer=mentee.id,
    )
    today = utcnow().date()
    await repos.goals.add_progress(
        goal.id,
        entry_date=today - timedelta(days=7),
        note="Observed two critiques and wrote down what worked.",
        status="on_track",
        viewer=mentee.id,
    )
    await repos.goals.add_progress(
        goal.id,
        entry_date=today,
        note="Manager agreed I run the critique on 9 December.",
        status="on_track",
        viewer=mentee.id,
    )
    past = await _past_meeting(repos, mentorship.id, mentor.id, today)
    await repos.action_items.create(
        mentorship.id,
        text="Send the portfolio case study draft to Helena",
        owner_id=mentee.id,
        due_date=today - timedelta(days=2),
        created_in_meeting_id=past.id,
        viewer=mentor.id,
    )
    await repos.action_items.create(
        mentorship.id,
        text="Share two articles on running critiques",
        owner_id=mentor.id,
        due_date=today + timedelta(days=3),
        created_in_meeting_id=past.id,
        viewer=mentor.id,
    )
    return complete


async def _past_meeting(
    repos: Repositories, mentorship_id: str, viewer: str, today: date
) -> Meeting:
    start = datetime.combine(today - timedelta(days=7), datetime.min.time(), utcnow().tzinfo)
    start += timedelta(hours=14)
    meeting = await repos.meetings.create(
        mentorship_id,
        title="First meeting: getting to know each other",
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=45),
        platform="link",
        join_url=None,
        viewer=viewer,
    )
    return await repos.meetings.update(meeting.id, {"status": "ended"}, viewer=viewer)
