"""What every repository shares: the database handle and a guarded UPDATE builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sidecar.db.connection import Database
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import now_iso

# The membership test, for queries that alias the mentorships table as `m`.
IS_MEMBER = "(m.mentor_id = :viewer OR m.mentee_id = :viewer)"


class Repository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def after_commit(self, callback: Callable[[], object]) -> None:
        """`callback` once what the caller wrote is committed (see Database.after_commit)."""
        self.db.after_commit(callback)

    async def _update_row(
        self,
        table: str,
        key: Mapping[str, Any],
        changes: Mapping[str, Any],
        allowed: frozenset[str],
        actor: str | None,
    ) -> None:
        unknown = set(changes) - allowed
        if unknown:  # a programming error: the API schema should never let these through
            raise ValueError(f"cannot update {sorted(unknown)} of {table}")
        values = dict(changes)
        if actor is not None:
            values["updated_by"] = actor
        values["updated_at"] = now_iso()
        assignments = ", ".join(f"{column} = :set_{column}" for column in values)
        where = " AND ".join(f"{column} = :key_{column}" for column in key)
        params = {f"set_{k}": v for k, v in values.items()} | {
            f"key_{k}": v for k, v in key.items()
        }
        await self.db.execute(f"UPDATE {table} SET {assignments} WHERE {where}", params)

    async def _check_member(self, mentorship_id: str, viewer: str) -> None:
        found = await self.db.fetch_value(
            f"SELECT 1 FROM mentorships m WHERE m.id = :id AND {IS_MEMBER}",
            {"id": mentorship_id, "viewer": viewer},
        )
        if found is None:
            raise NotFound("mentorship")
