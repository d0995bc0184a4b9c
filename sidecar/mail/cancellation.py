"""The email that tells both people a meeting is cancelled, with an iCalendar CANCEL (RFC 5546)
that takes it out of the calendar they added it to: same UID as the feed's event, the SEQUENCE
the cancellation raised, STATUS:CANCELLED."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Calendar, vCalAddress, vText

from sidecar.calendar import PRODUCT_ID, meeting_event
from sidecar.domain.models import Meeting, Mentorship, Person
from sidecar.mail import clocks
from sidecar.mail.compose import Attachment, compose


def cancellation_ics(
    meeting: Meeting,
    mentorship: Mentorship,
    people: dict[str, Person],
    reader: Person,
    mail_from: str,
    base_url: str,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL")
    event = meeting_event(meeting, mentorship, people, reader, base_url)
    name, address = parseaddr(mail_from)
    organizer = vCalAddress(f"mailto:{address or 'sidecar@localhost'}")
    organizer.params["cn"] = vText(name or "Mentor Sidecar")
    event.add("organizer", organizer)
    for person in people.values():
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def cancellation_email(
    *,
    meeting: Meeting,
    mentorship: Mentorship,
    people: dict[str, Person],
    reader: Person,
    cancelled_by: Person,
    mail_from: str,
    base_url: str,
    panel_url: str,
) -> EmailMessage:
    local = meeting.scheduled_start.astimezone(ZoneInfo(reader.timezone))
    when = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} ({reader.timezone})"
    when += clocks.their_time(meeting.scheduled_start, reader, clocks.other_person(people, reader))
    who = "You" if cancelled_by.id == reader.id else cancelled_by.name
    text = (
        f"Hello {reader.name},\n\n{who} cancelled {meeting.title}, {when}.\n\n"
        "The other meetings of your series keep their dates. Its agenda and notes stay in the "
        "panel, and the attached invitation takes it out of your calendar.\n\n"
        f"Open the panel: {panel_url}\n"
    )
    ics = cancellation_ics(meeting, mentorship, people, reader, mail_from, base_url)
    return compose(
        sender=mail_from,
        to_name=reader.name,
        to_address=reader.email,
        subject=f"Cancelled: {meeting.title}, {local:%a} {local.day} {local:%b} {local:%H:%M}",
        text=text,
        attachments=(Attachment("cancelled.ics", "text/calendar", ics),),
    )
