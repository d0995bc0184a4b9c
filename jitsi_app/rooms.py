"""Each meeting's Jitsi room (stored by store.py) and who may be in it.

The room name is made by the service, once per meeting: `ms-` and 128 random bits in lower-case
hex. Jitsi lower-cases room names (the MUC JID's node), so a lower-case name is the same in the
iframe, in the token's `room` claim and in Prosody's events.
"""

from __future__ import annotations

import secrets

from sidecar.domain.models import Mentorship, Person

from .store import JitsiStore


def new_room_name() -> str:
    return f"ms-{secrets.token_hex(16)}"


async def room_for(store: JitsiStore, meeting_id: str) -> str:
    """The meeting's room name, made on first use (two first uses at once get the same one)."""
    return await store.room_for(meeting_id, new_name=new_room_name())


async def meeting_for_room(store: JitsiStore, room_name: str) -> str | None:
    """The meeting id behind a room name as Prosody reports it (case does not matter)."""
    return await store.meeting_for_room(room_name.strip().lower())


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
