"""The summary of a meeting: one Markdown record for the pair, and an email for each person in
their own time zone (plain text and HTML, with the next meeting as an .ics attachment)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from icalendar import Calendar

from sidecar.calendar import PRODUCT_ID, meeting_event
from sidecar.domain.models import AgendaItem, GoalProgress, Meeting, Mentorship, Person
from sidecar.mail.compose import Attachment, compose
from sidecar.summary.attendance import Arrival


@dataclass(frozen=True)
class Step:
    """A next step as the summary shows it (stored as an action item once the meeting ends)."""

    text: str
    owner_id: str | None
    due_date: date | None


@dataclass(frozen=True)
class MeetingRecord:
    meeting: Meeting
    mentorship: Mentorship
    people: dict[str, Person]
    attendees: list[str]
    covered: list[AgendaItem]
    carried_to_next: list[AgendaItem]
    agreements: list[str]
    next_steps: list[Step]
    progress: list[tuple[str, GoalProgress]]  # (goal title, entry)
    next_meeting: Meeting | None
    notes: str
    # When each person joined the call (or opened the panel): punctuality, for the record.
    arrivals: tuple[Arrival, ...] = ()


def _local(record: MeetingRecord, person: Person) -> tuple[str, str]:
    zone = ZoneInfo(person.timezone)
    start = record.meeting.started_at or record.meeting.scheduled_start
    return f"{start.astimezone(zone):%A %d %B %Y}", f"{start.astimezone(zone):%H:%M}"


def _duration(record: MeetingRecord) -> str:
    meeting = record.meeting
    start = meeting.started_at or meeting.scheduled_start
    end = meeting.ended_at or meeting.scheduled_end
    minutes = max(0, round((end - start).total_seconds() / 60))
    return f"{minutes} min"


def _arrived(record: MeetingRecord, person_id: str, reader: Person) -> str:
    name = record.people[person_id].name
    arrival = next((a for a in record.arrivals if a.person_id == person_id), None)
    if arrival is None:
        return name
    at = arrival.joined_at.astimezone(ZoneInfo(reader.timezone))
    timing = "on time" if arrival.minutes_late == 0 else f"{arrival.minutes_late} min late"
    return f"{name} (joined {at:%H:%M}, {timing})"


def summary_markdown(record: MeetingRecord, reader: Person) -> str:
    """The summary as the reader sees it (dates in their time zone)."""
    day, at = _local(record, reader)
    names = ", ".join(_arrived(record, p, reader) for p in record.attendees if p in record.people)
    lines = [
        f"# Summary: {record.meeting.title}, {day}",
        "",
        f"- When: {day} at {at} ({reader.timezone}), {_duration(record)}",
        f"- Who: {names or 'nobody joined the panel'}",
        "",
    ]

    def section(title: str, items: list[str], empty: str | None = None) -> None:
        if items or empty:
            lines.extend([f"## {title}", *([f"- {i}" for i in items] or [empty or ""]), ""])

    section("Agreements", record.agreements, "No agreements were written down.")
    steps = []
    for step in record.next_steps:
        owner = (
            record.people[step.owner_id].name if step.owner_id in record.people else "either of you"
        )
        due = f", by {step.due_date.isoformat()}" if step.due_date else ""
        steps.append(f"{step.text} ({owner}{due})")
    section("Next steps", steps, "No next steps were written down.")
    section("Agenda covered", [i.text for i in record.covered])
    section("Carried over to next time", [i.text for i in record.carried_to_next])
    section(
        "Progress on goals",
        [
            f"{title}: {p.note} ({p.status.replace('_', ' ')}, {p.entry_date})"
            for title, p in record.progress
        ],
    )
    if record.next_meeting is not None:
        zone = ZoneInfo(reader.timezone)
        nxt = record.next_meeting.scheduled_start.astimezone(zone)
        section(
            "Next meeting",
            [f"{record.next_meeting.title}, {nxt:%A %d %B %Y at %H:%M} ({reader.timezone})"],
        )
    lines += ["## Notes", "", record.notes.strip() or "(no notes)", ""]
    return "\n".join(lines)


def summary_email(
    record: MeetingRecord, reader: Person, mail_from: str, base_url: str
) -> EmailMessage:
    day, _ = _local(record, reader)
    text = summary_markdown(record, reader)
    body_html = "<br>\n".join(html.escape(line) for line in text.splitlines())
    attachments: tuple[Attachment, ...] = ()
    if record.next_meeting is not None:
        calendar = Calendar()
        calendar.add("prodid", PRODUCT_ID)
        calendar.add("version", "2.0")
        calendar.add("method", "PUBLISH")
        calendar.add_component(
            meeting_event(record.next_meeting, record.mentorship, record.people, reader, base_url)
        )
        calendar.add_missing_timezones()
        attachments = (Attachment("next-meeting.ics", "text/calendar", calendar.to_ical()),)
    return compose(
        sender=mail_from,
        to_name=reader.name,
        to_address=reader.email,
        subject=f"Summary of {record.meeting.title}, {day}",
        text=text + f"\nOpen the meeting: {base_url}/meetings/{record.meeting.id}\n",
        html=f'<div style="font-family:sans-serif">{body_html}</div>',
        attachments=attachments,
    )
