"""The agenda email: what the mentee prepared, sent to the mentor before the meeting."""

from __future__ import annotations

import html
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sidecar.domain.models import AGENDA_SECTIONS, ActionItem, AgendaItem, Goal, Meeting, Person
from sidecar.mail import clocks
from sidecar.mail import email_style as style
from sidecar.mail.compose import compose

SECTION_TITLES = {
    "review": "Since last time",
    "successes": "Successes",
    "challenges": "Challenges",
    "goal_progress": "Progress on goals",
    "topics": "Topics to discuss",
    "next_period": "Plan for the next period",
}
ACTION_STATUS = {"open": "still open", "done": "done", "dropped": "dropped"}


def when(meeting: Meeting, person: Person) -> str:
    local = meeting.scheduled_start.astimezone(ZoneInfo(person.timezone))
    return f"{local:%A %d %B %Y, %H:%M} ({person.timezone})"


def agenda_email(
    *,
    mail_from: str,
    meeting: Meeting,
    sender: Person,
    recipient: Person,
    items: list[AgendaItem],
    carried_over: list[ActionItem],
    goals: list[Goal],
    people: dict[str, Person],
    panel_url: str,
) -> EmailMessage:
    starts = when(meeting, recipient)
    theirs = clocks.their_time(meeting.scheduled_start, recipient, sender)
    text = [f"{sender.name} prepared the agenda for {meeting.title}, {starts}{theirs}.", ""]
    e = html.escape
    parts = [
        f'<h1 style="{style.TITLE}">{e(meeting.title)}</h1>',
        f'<p style="{style.SUBTITLE}">Agenda from {e(sender.name)}, {e(starts + theirs)}</p>',
        f'<p style="{style.PARAGRAPH}"><a href="{e(panel_url)}" style="{style.BUTTON}">'
        "Open the meeting panel</a></p>",
    ]
    header = len(parts)

    def section(title: str, lines: list[str]) -> None:
        if not lines:
            return
        text.extend([title, *[f"  - {line}" for line in lines], ""])
        parts.append(f'<h2 style="{style.SECTION}">{e(title)}</h2><ul style="{style.LIST}">')
        parts.extend(f'<li style="{style.LIST_ITEM}">{e(line)}</li>' for line in lines)
        parts.append("</ul>")

    section(
        "Next steps from last time",
        [
            f"{a.text} ({people[a.owner_id].name if a.owner_id in people else 'anyone'}"
            f"{', due ' + a.due_date.isoformat() if a.due_date else ''}, {ACTION_STATUS[a.status]})"
            for a in carried_over
        ],
    )
    for key in AGENDA_SECTIONS:
        section(
            SECTION_TITLES[key],
            [("[done] " if i.done else "") + i.text for i in items if i.section == key],
        )
    goal_lines = []
    for goal in goals:
        latest = goal.progress[-1] if goal.progress else None
        note = f": {latest.note} ({latest.entry_date.isoformat()})" if latest else ""
        goal_lines.append(f"{goal.title}{note}")
    section("Goals", goal_lines)
    if len(parts) == header:  # sent with nothing written in it
        text += ["Nothing was written in the agenda yet.", ""]
        parts.append(f'<p style="{style.EMPTY}">Nothing was written in the agenda yet.</p>')
    text += [f"Open the panel: {panel_url}", ""]
    parts.append(
        f'<p style="{style.FOOTER}">Sent by Mentor Sidecar when {e(sender.name)} sent the'
        " agenda, with times in your own time zone."
        f' <a href="{e(panel_url)}" style="{style.LINK}">{e(panel_url)}</a></p>'
    )
    return compose(
        sender=mail_from,
        to_name=recipient.name,
        to_address=recipient.email,
        subject=f"Agenda: {meeting.title}, {starts}",
        text="\n".join(text),
        html=style.document(f"Agenda: {meeting.title}", "\n".join(parts)),
    )
