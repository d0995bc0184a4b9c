"""Each meeting's Jitsi room (table `jitsi_rooms`, migration 11) and who may be in it.

The room name is made by the service, once per meeting: `ms-` and 128 random bits in lower-case
hex. Jitsi lower-cases room names (the MUC JID's node), so a lower-case name is the same in the
iframe, in the token's `room` claim and in Prosody's events.
"""

from __future__ import annotations

import secrets

from sidecar.db import Database
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import now_iso
from sidecar.domain.models import Meeting, Mentorship, Person


def new_room_name() -> str:
    return f"ms-{secrets.token_hex(16)}"


async def room_for(db: Database, meeting_id: str) -> str:
    """The meeting's room name, made on first use (two first uses at once get the same one)."""
    async with db.transaction():
        await db.execute(
            "INSERT INTO jitsi_rooms (meeting_id, room_name, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (meeting_id) DO NOTHING",
            (meeting_id, new_room_name(), now_iso()),
        )
        name: str = await db.fetch_value(
            "SELECT room_name FROM jitsi_rooms WHERE meeting_id = ?", (meeting_id,)
        )
    return name


async def meeting_for_room(db: Database, room_name: str) -> str | None:
    """The meeting id behind a room name as Prosody reports it (case does not matter)."""
    found = await db.fetch_value(
        "SELECT meeting_id FROM jitsi_rooms WHERE room_name = ?", (room_name.strip().lower(),)
    )
    return str(found) if found is not None else None


async def meeting_record(db: Database, meeting_id: str) -> Meeting:
    """The meeting, read by the service itself (Prosody's events carry no person to read as)."""
    row = await db.fetch_one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
    if row is None:
        raise NotFound("meeting")
    return Meeting.model_validate(row)


async def mentorship_of(db: Database, meeting_id: str) -> Mentorship:
    row = await db.fetch_one(
        "SELECT ms.* FROM mentorships ms JOIN meetings mt ON mt.mentorship_id = ms.id"
        " WHERE mt.id = ?",
        (meeting_id,),
    )
    if row is None:
        raise NotFound("meeting")
    return Mentorship.model_validate(row)


def member_named(
    mentorship: Mentorship, people: list[Person], *, person_id: str | None, email: str | None
) -> Person | None:
    """One of the pair, by the `context.user` id this service put in their token (by email only
    when no id came).

    Anyone else in the room (possible only on a server without token authentication) is nobody.
    """
    members = [p for p in people if p.id in (mentorship.mentor_id, mentorship.mentee_id)]
    if person_id:  # the id is what this service signed; an unknown one is nobody of the pair
        return next((person for person in members if person.id == person_id), None)
    if email:
        wanted = email.strip().lower()
        for person in members:
            if person.email.strip().lower() == wanted:
                return person
    return None
