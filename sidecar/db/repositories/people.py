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
        row = await self.db.fetch_one("SELECT * FROM people WHERE id = ?", (person_id,))
        if row is None:
            raise NotFound("person")
        return Person.model_validate(row)

    async def update(self, person_id: str, changes: dict[str, Any]) -> Person:
        if changes:
            # A person's profile has no separate author: they are the only one who edits it.
            await self._update_row("people", {"id": person_id}, changes, _EDITABLE, actor=None)
        return await self.get(person_id)
