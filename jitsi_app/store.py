"""All of the Jitsi platform's SQL: each meeting's room (table `jitsi_rooms`, migrations.py),
and what of it is a pair's (the privacy declaration, `JITSI_PRIVACY`).

Only Jitsi's own table is read here; meetings and mentorships are read through the core's
repositories. The statements run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from sidecar.db import Database
from sidecar.db.privacy_tables import MEETINGS_OF_MENTORSHIP
from sidecar.domain.ids import now_iso
from sidecar.keys import DATABASE
from sidecar.platforms.hookspecs import PrivacyDeclaration


class JitsiStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def room_for(self, meeting_id: str, *, new_name: str) -> str:
        """The meeting's room name, `new_name` if it had none. Two first uses at once (any
        processes) get the same one: the loser's INSERT waits for the winner's and does
        nothing, then reads the winner's row."""
        async with self._db.transaction():
            made = await self._db.fetch_value(
                "INSERT INTO jitsi_rooms (meeting_id, room_name, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (meeting_id) DO NOTHING RETURNING room_name",
                (meeting_id, new_name, now_iso()),
            )
            if made is not None:
                return str(made)
            name = await self._db.fetch_value(
                "SELECT room_name FROM jitsi_rooms WHERE meeting_id = ?", (meeting_id,)
            )
        return str(name)

    async def meeting_for_room(self, room_name: str) -> str | None:
        """The meeting id behind a room name (names are stored in lower case)."""
        found = await self._db.fetch_value(
            "SELECT meeting_id FROM jitsi_rooms WHERE room_name = ?", (room_name,)
        )
        return str(found) if found is not None else None


JITSI_PRIVACY = PrivacyDeclaration(
    mentorship_tables={
        "jitsi_rooms": (
            "SELECT meeting_id, room_name, created_at FROM jitsi_rooms"
            f" WHERE meeting_id IN {MEETINGS_OF_MENTORSHIP}"
        )
    }
)

# The store, over the application's database (set once the database is open).
JITSI_STORE: web.AppKey[JitsiStore] = web.AppKey("jitsi_store")


async def store_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context after the database's: Jitsi's store over it."""
    app[JITSI_STORE] = JitsiStore(app[DATABASE])
    yield
