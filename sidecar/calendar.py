"""Each person's private iCalendar feed (RFC 5545) of the pair's meetings, in their time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from sidecar.domain.models import Meeting, Mentorship, Person

PRODUCT_ID = "-//Mentor Sidecar//Mentoring meetings//EN"


def meeting_event(
    meeting: Meeting,
    mentorship: Mentorship,
    people: dict[str, Person],
    viewer: Person,
    base_url: str,
) -> Event:
    zone = ZoneInfo(viewer.timezone)
    other_id = mentorship.mentee_id if viewer.id == mentorship.mentor_id else mentorship.mentor_id
    other = people.get(other_id or "")
    event = Event()
    event.add("uid", f"{meeting.id}@mentor-sidecar")
    event.add("dtstamp", meeting.updated_at)
    event.add("dtstart", meeting.scheduled_start.astimezone(zone))
    event.add("dtend", meeting.scheduled_end.astimezone(zone))
    event.add("sequence", meeting.sequence)
    with_whom = f" with {other.name}" if other else ""
    event.add("summary", f"{meeting.title}{with_whom}")
    panel = f"{base_url}/meetings/{meeting.id}"
    lines = [f"Mentoring: {mentorship.title}", f"Panel: {panel}"]
    if meeting.join_url:
        lines.append(f"Join: {meeting.join_url}")
        event.add("location", meeting.join_url)
    event.add("description", "\n".join(lines))
    event.add("url", panel)
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    if meeting.status in ("ended", "cancelled"):
        event.add("transp", "TRANSPARENT")
    return event


def feed(
    viewer: Person,
    meetings: list[Meeting],
    mentorships: dict[str, Mentorship],
    people: dict[str, Person],
    base_url: str,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Mentoring")
    calendar.add("x-wr-timezone", viewer.timezone)
    for meeting in meetings:
        mentorship = mentorships[meeting.mentorship_id]
        calendar.add_component(meeting_event(meeting, mentorship, people, viewer, base_url))
    calendar.add_missing_timezones()  # a VTIMEZONE for every TZID used
    ical: bytes = calendar.to_ical()
    return ical
