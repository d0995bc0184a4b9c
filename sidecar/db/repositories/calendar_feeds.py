"""Private calendar subscription URLs: a secret per person, stored hashed, rotated on demand."""

from __future__ import annotations

from sidecar.db.repositories.base import Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import hash_secret, new_secret, now_iso

FEED_PREFIX = "msc"


class CalendarFeedRepository(Repository):
    async def rotate(self, person_id: str) -> str:
        """A new secret for the person's feed; the old URL stops working."""
        code = new_secret(FEED_PREFIX)
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE calendar_feeds SET revoked_at = ? WHERE person_id = ?"
                " AND revoked_at IS NULL",
                (now_iso(), person_id),
            )
            await self.db.execute(
                "INSERT INTO calendar_feeds (token_hash, person_id, created_at) VALUES (?, ?, ?)",
                (hash_secret(code), person_id, now_iso()),
            )
        return code

    async def person_for(self, code: str) -> str:
        person_id = await self.db.fetch_value(
            "SELECT person_id FROM calendar_feeds WHERE token_hash = ? AND revoked_at IS NULL",
            (hash_secret(code),),
        )
        if person_id is None:
            raise NotFound("calendar")
        return str(person_id)
