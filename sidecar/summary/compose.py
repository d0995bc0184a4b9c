"""The summary of a meeting, as one reader sees it: every time in their own time zone, the other
person's beside it where the two differ. The same view gives the Markdown record (the panel,
the export, the email's plain part) and the email's HTML part, with the next meeting as .ics.

Facts that must agree: the meeting is taken to start when both people were there (or, when only
one came, when they joined) and to run to its end; early or late is against the scheduled start,
for the meeting and for each person; every difference is between the minutes shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from icalendar import Calendar

from sidecar.calendar import PRODUCT_ID, meeting_event
from sidecar.domain.models import AgendaItem, GoalProgress, Meeting, Mentorship, Person
from sidecar.mail import clocks
from sidecar.mail import email_style as style
from sidecar.mail.compose import Attachment, compose
from sidecar.summary.attendance import Arrival
from sidecar.summary.due_dates import due_words, short_date
from sidecar.summary.markdown import BOX_DONE, BOX_OPEN, notes_html, shift_headings

# The notes' own headings sit under the summary's "## Notes": their "#" becomes "###".
NOTES_HEADING_SHIFT = 2


@dataclass(frozen=True)
class Step:
    """A next step as the summary shows it (stored as an action item once the meeting ends)."""

    text: str
    owner_id: str | None
    due_date: date | None
    done: bool = False  # ticked in the notes during the meeting


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
    # Reopened and ended again: this summary corrects the one sent before, and says so.
    corrected: bool = False
    # Next steps still open from earlier meetings, so one overdue is seen (flagged) again.
    earlier_steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Item:
    text: str
    meta: str = ""  # "(Ana, by 2026-12-03)": shown quieter in HTML
    box: bool | None = None  # None: a plain bullet; False: an open step ☐; True: done ☑


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]
    empty: str = ""  # said when there are no items; without it an empty section is left out


@dataclass(frozen=True)
class SummaryView:
    title: str  # "Summary: Check-in, Tuesday 1 December 2026"
    meeting_title: str
    day: str
    facts: tuple[tuple[str, str], ...]  # ("When", "…"), ("Held", "…"), ("Who", "…")
    sections: tuple[Section, ...]
    notes: str  # as the pair typed them
    corrected: bool = False  # replaces a summary sent before (the meeting was reopened)


# --- times ------------------------------------------------------------------------------------


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes between the clock times shown for `start` and `end`."""
    return round((_minute(end) - _minute(start)).total_seconds() / 60)


def _amount(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _against_schedule(minutes: int) -> str:
    """ "on time", "13 min early", "5 min late" (minutes after the scheduled start)."""
    if minutes == 0:
        return "on time"
    return f"{_amount(minutes)} {'early' if minutes < 0 else 'late'}"


def _long_day(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _when(at: datetime, record: MeetingRecord, reader: Person) -> str:
    """ "Tuesday 8 December 2026 at 15:00 (Europe/Lisbon); 20:30 for Arjun (Asia/Kolkata)"."""
    zone = ZoneInfo(reader.timezone)
    other = clocks.other_person(record.people, reader)
    day, clock = _long_day(at, zone), clocks.clock(at, zone)
    return f"{day} at {clock} ({reader.timezone}){clocks.their_time(at, reader, other)}"


@dataclass(frozen=True)
class Timing:
    began: datetime | None  # both present, or the one who came joined, or the call's start
    ended: datetime | None


def timing(record: MeetingRecord) -> Timing:
    meeting = record.meeting
    joins = sorted(a.joined_at for a in record.arrivals if a.person_id in record.people)
    if joins and len(joins) >= len(record.people):
        began: datetime | None = joins[-1]  # the moment the second person arrived
    elif joins:
        began = joins[0]
    else:
        began = meeting.started_at
    return Timing(began=began, ended=meeting.ended_at)


def _held(record: MeetingRecord, zone: ZoneInfo) -> str | None:
    """'22:02 to 22:16, 14 min; started 13 min early'."""
    when = timing(record)
    if when.began is None:
        return None
    early_or_late = _against_schedule(_minutes_between(record.meeting.scheduled_start, when.began))
    started = f"started {early_or_late}"
    if when.ended is None:
        return f"since {clocks.clock(when.began, zone)}; {started}"
    if when.ended < when.began:
        return f"ended {clocks.clock(when.ended, zone)}, before anyone joined"
    minutes = _minutes_between(when.began, when.ended)
    lasted = _amount(minutes) if minutes else "less than a minute"
    began, ended = clocks.clock(when.began, zone), clocks.clock(when.ended, zone)
    return f"{began} to {ended}, {lasted}; {started}"


def _arrived(record: MeetingRecord, person_id: str, zone: ZoneInfo) -> str:
    name = record.people[person_id].name
    arrival = next((a for a in record.arrivals if a.person_id == person_id), None)
    if arrival is None:
        return name
    late = _minutes_between(record.meeting.scheduled_start, arrival.joined_at)
    return f"{name} (joined {clocks.clock(arrival.joined_at, zone)}, {_against_schedule(late)})"


# --- the view ---------------------------------------------------------------------------------


def _step_items(record: MeetingRecord, reader: Person | None, steps: list[Step]) -> list[Item]:
    """ "(Ana, by 3 Dec)", "(Ana, overdue since 3 Dec)": against the day the meeting ended."""
    today = _meeting_day(record, reader)
    items = []
    for step in steps:
        owner = (
            record.people[step.owner_id].name if step.owner_id in record.people else "either of you"
        )
        due = f", {due_words(step.due_date, today)}" if step.due_date else ""
        items.append(Item(step.text, f"({owner}{due})", box=step.done))
    return items


def _meeting_day(record: MeetingRecord, reader: Person | None) -> date:
    """ "Today" for the summary's dates: the day the meeting ended, in the reader's zone."""
    meeting = record.meeting
    zone = ZoneInfo(reader.timezone) if reader is not None else ZoneInfo("UTC")
    return (meeting.ended_at or meeting.scheduled_start).astimezone(zone).date()


def _sections(record: MeetingRecord, reader: Person | None) -> list[Section]:
    steps = _step_items(record, reader, record.next_steps)
    today = _meeting_day(record, reader)
    sections = [
        Section(
            "Agreements",
            tuple(Item(a) for a in record.agreements),
            "No agreements were written down.",
        ),
        Section("Next steps", tuple(steps), "No next steps were written down."),
        Section(
            "Still open from earlier",
            tuple(_step_items(record, reader, list(record.earlier_steps))),
        ),
        Section("Agenda covered", tuple(Item(i.text) for i in record.covered)),
        Section("Carried over to next time", tuple(Item(i.text) for i in record.carried_to_next)),
        Section(
            "Progress on goals",
            tuple(
                Item(
                    f"{title}: {p.note}",
                    f"({p.status.replace('_', ' ')}, {short_date(p.entry_date, today)})",
                )
                for title, p in record.progress
            ),
        ),
    ]
    if record.next_meeting is not None and reader is not None:
        when = _when(record.next_meeting.scheduled_start, record, reader)
        sections.append(Section("Next meeting", (Item(f"{record.next_meeting.title}, {when}"),)))
    return sections


def summary_view(record: MeetingRecord, reader: Person) -> SummaryView:
    zone = ZoneInfo(reader.timezone)
    meeting = record.meeting
    day = _long_day(meeting.scheduled_start, zone)
    facts = [("When", _when(meeting.scheduled_start, record, reader))]
    if (held := _held(record, zone)) is not None:
        facts.append(("Held", held))
    names = ", ".join(_arrived(record, p, zone) for p in record.attendees if p in record.people)
    facts.append(("Who", names or "nobody joined the panel"))
    if record.corrected:
        facts.append(("Corrected", CORRECTED_NOTE))
    return SummaryView(
        title=f"{_kind(record.corrected)}: {meeting.title}, {day}",
        meeting_title=meeting.title,
        day=day,
        facts=tuple(facts),
        sections=tuple(_sections(record, reader)),
        notes=record.notes.strip(),
        corrected=record.corrected,
    )


CORRECTED_NOTE = "the meeting was reopened and ended again; this replaces the summary sent before"


def _kind(corrected: bool) -> str:
    return "Corrected summary" if corrected else "Summary"


# --- Markdown ---------------------------------------------------------------------------------


def _markdown_item(item: Item) -> str:
    box = "" if item.box is None else ("[x] " if item.box else "[ ] ")
    return f"- {box}{item.text}" + (f" {item.meta}" if item.meta else "")


def view_markdown(view: SummaryView) -> str:
    lines = [f"# {view.title}", ""]
    lines += [f"- {label}: {value}" for label, value in view.facts]
    lines.append("")
    for section in view.sections:
        if section.items or section.empty:
            body = [_markdown_item(i) for i in section.items] or [section.empty]
            lines += [f"## {section.title}", *body, ""]
    notes = shift_headings(view.notes, NOTES_HEADING_SHIFT) if view.notes else "(no notes)"
    lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)


def summary_markdown(record: MeetingRecord, reader: Person) -> str:
    """The summary as the reader sees it (times in their time zone)."""
    return view_markdown(summary_view(record, reader))


def searchable_summary(record: MeetingRecord) -> str:
    """The summary's words without its times, for the search index: a snippet found there is
    shown to both people, so it must not carry one person's clock."""
    lines = [record.meeting.title]
    for section in _sections(record, None):
        lines += [section.title, *(f"{i.text} {i.meta}".strip() for i in section.items)]
    return "\n".join(lines)


# --- HTML -------------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_item(item: Item) -> str:
    meta = f' <span style="{style.META}">{_e(item.meta)}</span>' if item.meta else ""
    if item.box is None:
        return f'<li style="{style.LIST_ITEM}">{_e(item.text)}{meta}</li>'
    box = BOX_DONE if item.box else BOX_OPEN
    label = "done" if item.box else "to do"
    return (
        f'<li style="{style.LIST_ITEM}"><span role="img" aria-label="{label}">{box}</span>'
        f"&nbsp;{_e(item.text)}{meta}</li>"
    )


def view_html(view: SummaryView, panel_url: str) -> str:
    parts = [
        f'<h1 style="{style.TITLE}">{_e(view.meeting_title)}</h1>',
        f'<p style="{style.SUBTITLE}">{_kind(view.corrected)} of your mentoring meeting,'
        f" {_e(view.day)}</p>",
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0"'
        ' style="border-collapse:collapse;margin:0 0 16px 0;">',
    ]
    for label, value in view.facts:
        parts.append(
            f'<tr><td style="{style.FACT_LABEL}">{_e(label)}</td>'
            f'<td style="{style.FACT_VALUE}">{_e(value)}</td></tr>'
        )
    parts += [
        "</table>",
        f'<p style="{style.PARAGRAPH}"><a href="{_e(panel_url)}" style="{style.BUTTON}">'
        "Open the meeting panel</a></p>",
    ]
    for section in view.sections:
        if not (section.items or section.empty):
            continue
        parts.append(f'<h2 style="{style.SECTION}">{_e(section.title)}</h2>')
        if not section.items:
            parts.append(f'<p style="{style.EMPTY}">{_e(section.empty)}</p>')
            continue
        tasks = all(i.box is not None for i in section.items)
        parts.append(f'<ul style="{style.TASK_LIST if tasks else style.LIST}">')
        parts += [_html_item(i) for i in section.items]
        parts.append("</ul>")
    parts.append(f'<h2 style="{style.SECTION}">Notes</h2>')
    if view.notes:
        notes = notes_html(view.notes, heading_level=2 + 1)
        parts.append(f'<div style="{style.NOTES_BOX}">{notes}</div>')
    else:
        parts.append(f'<p style="{style.EMPTY}">No notes were written.</p>')
    parts.append(
        f'<p style="{style.FOOTER}">Sent by Mentor Sidecar to both of you after the call, each'
        " with times in your own time zone. The notes are as you wrote them together."
        f' <a href="{_e(panel_url)}" style="{style.LINK}">{_e(panel_url)}</a></p>'
    )
    return style.document(view.title, "\n".join(parts))


def summary_email(
    record: MeetingRecord,
    reader: Person,
    mail_from: str,
    base_url: str,
    *,
    open_url: str | None = None,  # the meeting through a link that signs the reader in
) -> EmailMessage:
    view = summary_view(record, reader)
    panel_url = open_url or f"{base_url}/meetings/{record.meeting.id}"
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
        subject=f"{_kind(record.corrected)} of {record.meeting.title}, {view.day}",
        text=view_markdown(view) + f"\nOpen the meeting: {panel_url}\n",
        html=view_html(view, panel_url),
        attachments=attachments,
    )
