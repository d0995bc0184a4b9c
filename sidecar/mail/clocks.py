"""How an email tells a time: on the reader's clock, with the other person's beside it.

The two people of a pair often live hours apart; every email that names a meeting's time says
it on the reader's clock and, when the other person's clock shows something else, on theirs
too ("15:00 (Europe/Lisbon); 23:00 for Kenji (Asia/Tokyo)"), so neither has to convert.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sidecar.domain.models import Person


def first_name(person: Person) -> str:
    return person.name.split()[0] if person.name.split() else person.name


def clock(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%H:%M}"


def short_day(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def their_time(at: datetime, reader: Person, other: Person | None) -> str:
    """ "; 17:45 for Ana (Europe/Lisbon)", or nothing when their clock shows the same."""
    if other is None:
        return ""
    mine, theirs = ZoneInfo(reader.timezone), ZoneInfo(other.timezone)
    if at.astimezone(mine).replace(tzinfo=None) == at.astimezone(theirs).replace(tzinfo=None):
        return ""
    same_day = at.astimezone(mine).date() == at.astimezone(theirs).date()
    shown = clock(at, theirs) if same_day else f"{short_day(at, theirs)} {clock(at, theirs)}"
    return f"; {shown} for {first_name(other)} ({other.timezone})"


def other_person(people: dict[str, Person], reader: Person) -> Person | None:
    """The pair's other person, if they are still in it."""
    return next((p for p in people.values() if p.id != reader.id), None)
