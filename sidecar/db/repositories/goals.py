from __future__ import annotations

from datetime import date
from typing import Any

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import new_id, now_iso
from sidecar.domain.models import Goal, GoalProgress

_EDITABLE = frozenset({"title", "description", "status"})


class GoalRepository(Repository):
    async def list(self, mentorship_id: str, *, viewer: str) -> list[Goal]:
        rows = await self.db.fetch_all(
            "SELECT g.* FROM goals g JOIN mentorships m ON m.id = g.mentorship_id"
            f" WHERE g.mentorship_id = :id AND {IS_MEMBER} ORDER BY g.created_at",
            {"id": mentorship_id, "viewer": viewer},
        )
        progress = await self.db.fetch_all(
            "SELECT p.* FROM goal_progress p JOIN goals g ON g.id = p.goal_id"
            f" JOIN mentorships m ON m.id = g.mentorship_id WHERE g.mentorship_id = :id"
            f" AND {IS_MEMBER} ORDER BY p.entry_date, p.created_at",
            {"id": mentorship_id, "viewer": viewer},
        )
        by_goal: dict[str, list[dict[str, Any]]] = {}
        for entry in progress:
            by_goal.setdefault(entry["goal_id"], []).append(entry)
        return [Goal.model_validate(row | {"progress": by_goal.get(row["id"], [])}) for row in rows]

    async def get(self, goal_id: str, *, viewer: str) -> Goal:
        row = await self.db.fetch_one(
            "SELECT g.* FROM goals g JOIN mentorships m ON m.id = g.mentorship_id"
            f" WHERE g.id = :id AND {IS_MEMBER}",
            {"id": goal_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("goal")
        progress = await self.db.fetch_all(
            "SELECT * FROM goal_progress WHERE goal_id = ? ORDER BY entry_date, created_at",
            (goal_id,),
        )
        return Goal.model_validate(row | {"progress": progress})

    async def create(
        self, mentorship_id: str, *, title: str, description: str, viewer: str
    ) -> Goal:
        goal_id, now = new_id(), now_iso()
        async with self.db.transaction():
            await self._check_member(mentorship_id, viewer)
            await self.db.execute(
                "INSERT INTO goals (id, mentorship_id, title, description, status, created_by,"
                " created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)",
                (goal_id, mentorship_id, title, description, viewer, now, viewer, now),
            )
        return await self.get(goal_id, viewer=viewer)

    async def update(self, goal_id: str, changes: dict[str, Any], *, viewer: str) -> Goal:
        async with self.db.transaction():
            await self.get(goal_id, viewer=viewer)
            if changes:
                await self._update_row("goals", {"id": goal_id}, changes, _EDITABLE, viewer)
        return await self.get(goal_id, viewer=viewer)

    async def add_progress(
        self, goal_id: str, *, entry_date: date, note: str, status: str, viewer: str
    ) -> GoalProgress:
        entry_id = new_id()
        async with self.db.transaction():
            await self.get(goal_id, viewer=viewer)
            await self.db.execute(
                "INSERT INTO goal_progress (id, goal_id, entry_date, note, status, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entry_id, goal_id, entry_date.isoformat(), note, status, viewer, now_iso()),
            )
        row = await self.db.fetch_one("SELECT * FROM goal_progress WHERE id = ?", (entry_id,))
        return GoalProgress.model_validate(row)
