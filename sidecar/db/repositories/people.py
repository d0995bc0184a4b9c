from __future__ import annotations

from typing import Any

from sidecar.db.repositories.base import Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import new_id, now_iso
from sidecar.domain.models import Person

_EDITABLE = frozenset({"name", "email", "timezone", "locale", "about"})


class PeopleRepository(Repository):
    async def create(
        self, *, name: str, email: str, timezone: str, locale: str, about: str = ""
    ) -> Person:
        person_id, now = new_id(), now_iso()
        await self.db.execute(
            "INSERT INTO people (id, name, email, timezone, locale, about, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (person_id, name, email, timezone, locale, about, now, now),
        )
        return await self.get(person_id)

    async def get(self, person_id: str) -> Person:
        row = await self.db.fetch_one(
            "SELECT p.*, ph.updated_at AS photo_updated_at FROM people p"
            " LEFT JOIN photos ph ON ph.person_id = p.id WHERE p.id = ?",
            (person_id,),
        )
        if row is None:
            raise NotFound("person")
        return Person.model_validate(row)

    async def with_email(self, email: str) -> list[Person]:
        """Everyone who gave this address, in any case (one address may have several people:
        each start of a mentorship while signed out makes a new one)."""
        rows = await self.db.fetch_all(
            "SELECT id FROM people WHERE lower(email) = lower(?) ORDER BY created_at",
            (email.strip(),),
        )
        return [await self.get(row["id"]) for row in rows]

    async def update(self, person_id: str, changes: dict[str, Any]) -> Person:
        if changes:
            # A person's profile has no separate author: they are the only one who edits it.
            await self._update_row("people", {"id": person_id}, changes, _EDITABLE, actor=None)
        return await self.get(person_id)

    async def save_photo(self, person_id: str, jpeg: bytes) -> Person:
        await self.db.execute(
            "INSERT INTO photos (person_id, content_type, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (person_id) DO UPDATE SET content_type = excluded.content_type,"
            " data = excluded.data, updated_at = excluded.updated_at",
            (person_id, "image/jpeg", jpeg, now_iso()),
        )
        return await self.get(person_id)

    async def delete_photo(self, person_id: str) -> None:
        await self.db.execute("DELETE FROM photos WHERE person_id = ?", (person_id,))

    async def photo(self, person_id: str, *, viewer: str) -> tuple[str, bytes]:
        """A person's photo, for themselves and for anyone they share a mentorship with."""
        row = await self.db.fetch_one(
            "SELECT ph.content_type, ph.data FROM photos ph WHERE ph.person_id = :person"
            " AND (:person = :viewer OR EXISTS (SELECT 1 FROM mentorships m WHERE"
            " (m.mentor_id = :person AND m.mentee_id = :viewer)"
            " OR (m.mentee_id = :person AND m.mentor_id = :viewer)))",
            {"person": person_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("photo")
        return str(row["content_type"]), bytes(row["data"])
