from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sidecar.db.repositories.base import IS_MEMBER, Repository
from sidecar.domain.errors import Conflict, Invalid, NotFound
from sidecar.domain.ids import iso, new_id, now_iso
from sidecar.domain.models import (
    AGENDA_SECTIONS,
    AgendaItem,
    AgendaSection,
    Meeting,
    Mentorship,
)

_MEETING_EDITABLE = frozenset(
    {"title", "scheduled_start", "scheduled_end", "platform", "join_url", "status"}
)
_AGENDA_EDITABLE = frozenset({"text", "done", "section", "position"})
_SECTION_ORDER = (
    "CASE a.section "
    + " ".join(f"WHEN '{name}' THEN {index}" for index, name in enumerate(AGENDA_SECTIONS))
    + " END"
)


@dataclass(frozen=True)
class LockedMeeting:
    """What ending, reopening or cancelling decides on, read under the meeting's row lock."""

    id: str
    status: str
    reopen_count: int
    mentor_id: str | None
    mentee_id: str | None


class MeetingRepository(Repository):
    async def list(self, mentorship_id: str, *, viewer: str) -> list[Meeting]:
        await self._check_member(mentorship_id, viewer)
        rows = await self.db.fetch_all(
            "SELECT * FROM meetings WHERE mentorship_id = ? ORDER BY scheduled_start",
            (mentorship_id,),
        )
        return [Meeting.model_validate(row) for row in rows]

    async def get(self, meeting_id: str, *, viewer: str) -> Meeting:
        row = await self.db.fetch_one(
            "SELECT mt.* FROM meetings mt JOIN mentorships m ON m.id = mt.mentorship_id"
            f" WHERE mt.id = :id AND {IS_MEMBER}",
            {"id": meeting_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("meeting")
        return Meeting.model_validate(row)

    async def read_for_service(self, meeting_id: str) -> Meeting:
        """The meeting, read by the service itself: a call platform's events carry no viewer
        (sidecar/call_events.py checks who they are about)."""
        row = await self.db.fetch_one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
        if row is None:
            raise NotFound("meeting")
        return Meeting.model_validate(row)

    async def for_call_at(self, mentorship_id: str, *, at: datetime) -> Meeting | None:
        """The pair's meeting a call at `at` belongs to, read by the service (a platform's
        events carry no viewer): the live one, else one not ended that starts within an hour
        of `at` (a call well before its meeting is not that meeting)."""
        row = await self.db.fetch_one(
            "SELECT * FROM meetings WHERE mentorship_id = ? AND status IN ('scheduled', 'live')"
            " AND (status = 'live' OR (scheduled_start <= ? AND scheduled_end > ?))"
            " ORDER BY status = 'live' DESC, scheduled_start LIMIT 1",
            (mentorship_id, iso(at + timedelta(hours=1)), iso(at - timedelta(hours=2))),
        )
        return None if row is None else Meeting.model_validate(row)

    async def mentorship_for_service(self, meeting_id: str) -> Mentorship:
        """The pair a meeting belongs to, read by the service itself (as above)."""
        row = await self.db.fetch_one(
            "SELECT m.* FROM mentorships m JOIN meetings mt ON mt.mentorship_id = m.id"
            " WHERE mt.id = ?",
            (meeting_id,),
        )
        if row is None:
            raise NotFound("meeting")
        return Mentorship.model_validate(row)

    async def lock_for_change(self, meeting_id: str) -> LockedMeeting:
        """Inside a transaction: the meeting's state, its row locked until the commit, so two
        processes ending (or reopening, cancelling) it at once take turns and the second sees
        what the first did. The service acts as itself: no viewer."""
        # PostgreSQL locks the row; SQLite's BEGIN IMMEDIATE already holds the only write lock.
        # NO KEY: rows referencing the meeting (its notes' updates, attendance) take a KEY SHARE
        # lock on it, which FOR UPDATE would make wait for the whole end, with the end waiting
        # for the notes to be stored.
        lock = " FOR NO KEY UPDATE OF mt" if self.db.dialect == "postgresql" else ""
        row = await self.db.fetch_one(
            "SELECT mt.id, mt.status, mt.reopen_count, ms.mentor_id, ms.mentee_id FROM meetings mt"
            f" JOIN mentorships ms ON ms.id = mt.mentorship_id WHERE mt.id = ?{lock}",
            (meeting_id,),
        )
        if row is None:
            raise NotFound("meeting")
        return LockedMeeting(
            id=str(row["id"]),
            status=str(row["status"]),
            reopen_count=int(row["reopen_count"]),
            mentor_id=row["mentor_id"],
            mentee_id=row["mentee_id"],
        )

    async def go_live(
        self, meeting_id: str, *, at: str, starts_before: datetime, ends_after: datetime
    ) -> bool:
        """A scheduled meeting becomes live if its window is around now; True only for the one
        call that changed it (the UPDATE is its own check, so concurrent joins agree)."""
        changed = await self.db.execute(
            "UPDATE meetings SET status = 'live', started_at = COALESCE(started_at, ?)"
            " WHERE id = ? AND status = 'scheduled' AND scheduled_start <= ? AND scheduled_end > ?",
            (at, meeting_id, iso(starts_before), iso(ends_after)),
        )
        return changed > 0

    async def mark_ended(self, meeting_id: str, *, ended_at: str, source: str) -> bool:
        """The meeting is over (first end time and source kept); False for a cancelled one."""
        changed = await self.db.execute(
            "UPDATE meetings SET status = 'ended', ended_at = COALESCE(ended_at, ?),"
            " ended_by = COALESCE(ended_by, ?), updated_at = ? WHERE id = ?"
            " AND status != 'cancelled'",
            (ended_at, source, now_iso(), meeting_id),
        )
        return changed > 0

    async def idle_live(
        self, *, ended_before: datetime, unseen_since: datetime
    ) -> builtins.list[str]:
        """Live meetings whose scheduled end is before `ended_before` and in which nobody has
        been seen since `unseen_since`: the idle end's candidates (it checks each again)."""
        rows = await self.db.fetch_all(
            "SELECT mt.id FROM meetings mt WHERE mt.status = 'live' AND mt.scheduled_end <= ?"
            " AND NOT EXISTS (SELECT 1 FROM meeting_attendance a WHERE a.meeting_id = mt.id"
            " AND a.last_seen_at > ?) ORDER BY mt.scheduled_end, mt.id",
            (iso(ended_before), iso(unseen_since)),
        )
        return [str(row["id"]) for row in rows]

    async def live_past_end(
        self, meeting_ids: Collection[str], *, at: datetime
    ) -> builtins.list[Meeting]:
        """Which of these meetings are live after their scheduled end (running over)."""
        if not meeting_ids:
            return []
        marks = ", ".join("?" for _ in meeting_ids)
        rows = await self.db.fetch_all(
            f"SELECT * FROM meetings WHERE id IN ({marks}) AND status = 'live'"
            " AND scheduled_end <= ? ORDER BY id",
            (*sorted(meeting_ids), iso(at)),
        )
        return [Meeting.model_validate(row) for row in rows]

    async def next_for(self, mentorship_id: str, *, after: datetime) -> Meeting | None:
        """The meeting to open now: one that is live, else the next not yet over; never a
        cancelled one, nor one whose time passed without it being held."""
        row = await self.db.fetch_one(
            "SELECT * FROM meetings WHERE mentorship_id = ? AND status IN ('scheduled', 'live')"
            " AND scheduled_end > ? ORDER BY status = 'live' DESC, scheduled_start LIMIT 1",
            (mentorship_id, iso(after)),
        )
        return None if row is None else Meeting.model_validate(row)

    async def create(
        self,
        mentorship_id: str,
        *,
        title: str,
        scheduled_start: datetime,
        scheduled_end: datetime,
        platform: str,
        join_url: str | None,
        viewer: str,
        series_id: str | None = None,
    ) -> Meeting:
        _check_times(scheduled_start, scheduled_end)
        meeting_id, now = new_id(), now_iso()
        async with self.db.transaction():
            await self._check_member(mentorship_id, viewer)
            await self.db.execute(
                "INSERT INTO meetings (id, mentorship_id, title, scheduled_start, scheduled_end,"
                " platform, join_url, status, created_by, created_at, updated_by, updated_at,"
                " series_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?)",
                (
                    meeting_id,
                    mentorship_id,
                    title,
                    iso(scheduled_start),
                    iso(scheduled_end),
                    platform,
                    join_url,
                    viewer,
                    now,
                    viewer,
                    now,
                    series_id,
                ),
            )
        return await self.get(meeting_id, viewer=viewer)

    async def cancel(self, meeting_id: str, *, viewer: str) -> tuple[Meeting, bool]:
        """Cancel a meeting not held; returns it and whether this call cancelled it (a second
        call finds it cancelled). SEQUENCE goes up, so calendars take the cancellation."""
        async with self.db.transaction():
            await self.lock_for_change(meeting_id)
            current = await self.get(meeting_id, viewer=viewer)
            if current.status == "cancelled":
                return current, False
            if current.status == "ended":
                raise Conflict(
                    "This meeting has been held and ended; it cannot be cancelled.", code="ended"
                )
            now = now_iso()
            changed = await self.db.execute(
                "UPDATE meetings SET status = 'cancelled', cancelled_at = ?, cancelled_by = ?,"
                " sequence = sequence + 1, updated_by = ?, updated_at = ? WHERE id = ?"
                " AND status IN ('scheduled', 'live')",
                (now, viewer, viewer, now, meeting_id),
            )
        return await self.get(meeting_id, viewer=viewer), changed > 0

    async def reopen(self, meeting_id: str, *, viewer: str) -> Meeting:
        """An ended meeting is live again (its summary stays until it ends once more)."""
        now = now_iso()
        async with self.db.transaction():
            await self.get(meeting_id, viewer=viewer)
            await self.db.execute(
                "UPDATE meetings SET status = 'live', ended_at = NULL, ended_by = NULL,"
                " reopened_at = ?, reopened_by = ?, reopen_count = reopen_count + 1,"
                " updated_by = ?, updated_at = ? WHERE id = ? AND status = 'ended'",
                (now, viewer, viewer, now, meeting_id),
            )
        return await self.get(meeting_id, viewer=viewer)

    async def upcoming_of_other_series(
        self, mentorship_id: str, *, series_id: str, after: datetime
    ) -> builtins.list[Meeting]:
        """Meetings planned in an earlier series that have not started: a new series replaces
        them. Held, live and single meetings (planned one by one) are kept."""
        rows = await self.db.fetch_all(
            "SELECT * FROM meetings WHERE mentorship_id = ? AND series_id IS NOT NULL"
            " AND series_id != ? AND status = 'scheduled' AND started_at IS NULL"
            " AND scheduled_start > ? ORDER BY scheduled_start",
            (mentorship_id, series_id, iso(after)),
        )
        return [Meeting.model_validate(row) for row in rows]

    async def update(self, meeting_id: str, changes: dict[str, Any], *, viewer: str) -> Meeting:
        async with self.db.transaction():
            await self.lock_for_change(meeting_id)  # the sequence is read, then written
            current = await self.get(meeting_id, viewer=viewer)
            if current.status == "cancelled" and changes:
                raise Conflict(
                    "This meeting was cancelled; plan a new one instead.", code="cancelled"
                )
            start = changes.get("scheduled_start", current.scheduled_start)
            end = changes.get("scheduled_end", current.scheduled_end)
            _check_times(start, end)
            stored: dict[str, Any] = {
                k: iso(v) if isinstance(v, datetime) else v for k, v in changes.items()
            }
            if (start, end) != (current.scheduled_start, current.scheduled_end):
                stored["sequence"] = current.sequence + 1  # calendars see the move
            if "status" in changes and changes["status"] != current.status:
                if changes["status"] == "live" and current.started_at is None:
                    stored["started_at"] = now_iso()
                if changes["status"] == "ended" and current.ended_at is None:
                    stored["ended_at"] = now_iso()
            if stored:
                await self._update_row(
                    "meetings",
                    {"id": meeting_id},
                    stored,
                    _MEETING_EDITABLE | {"started_at", "ended_at", "sequence"},
                    viewer,
                )
        return await self.get(meeting_id, viewer=viewer)

    async def mark_agenda_sent(self, meeting_id: str, *, viewer: str) -> Meeting:
        async with self.db.transaction():
            await self.get(meeting_id, viewer=viewer)
            await self.db.execute(
                "UPDATE meetings SET agenda_sent_at = ?, agenda_sent_by = ? WHERE id = ?",
                (now_iso(), viewer, meeting_id),
            )
        return await self.get(meeting_id, viewer=viewer)

    async def for_person(self, person_id: str) -> builtins.list[Meeting]:
        """Every meeting of every mentorship the person belongs to (their calendar)."""
        rows = await self.db.fetch_all(
            "SELECT mt.* FROM meetings mt JOIN mentorships m ON m.id = mt.mentorship_id"
            f" WHERE {IS_MEMBER} ORDER BY mt.scheduled_start",
            {"viewer": person_id},
        )
        return [Meeting.model_validate(row) for row in rows]


def _check_times(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("scheduled_end", "must be after scheduled_start")


class AgendaRepository(Repository):
    async def list(self, meeting_id: str, *, viewer: str) -> list[AgendaItem]:
        rows = await self.db.fetch_all(
            "SELECT a.* FROM agenda_items a JOIN meetings mt ON mt.id = a.meeting_id"
            " JOIN mentorships m ON m.id = mt.mentorship_id"
            f" WHERE a.meeting_id = :id AND {IS_MEMBER}"
            f" ORDER BY {_SECTION_ORDER}, a.position, a.created_at",
            {"id": meeting_id, "viewer": viewer},
        )
        return [AgendaItem.model_validate(row) for row in rows]

    async def get(self, item_id: str, *, viewer: str) -> AgendaItem:
        row = await self.db.fetch_one(
            "SELECT a.* FROM agenda_items a JOIN meetings mt ON mt.id = a.meeting_id"
            f" JOIN mentorships m ON m.id = mt.mentorship_id WHERE a.id = :id AND {IS_MEMBER}",
            {"id": item_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("agenda item")
        return AgendaItem.model_validate(row)

    async def add(
        self, meeting_id: str, *, section: AgendaSection, text: str, viewer: str
    ) -> AgendaItem:
        item_id, now = new_id(), now_iso()
        async with self.db.transaction():
            await MeetingRepository(self.db).get(meeting_id, viewer=viewer)
            position = await self.db.fetch_value(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM agenda_items"
                " WHERE meeting_id = ? AND section = ?",
                (meeting_id, section),
            )
            await self.db.execute(
                "INSERT INTO agenda_items (id, meeting_id, section, text, position, done,"
                " created_by, created_at, updated_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (item_id, meeting_id, section, text, position, viewer, now, viewer, now),
            )
        return await self.get(item_id, viewer=viewer)

    async def update(self, item_id: str, changes: dict[str, Any], *, viewer: str) -> AgendaItem:
        async with self.db.transaction():
            await self.get(item_id, viewer=viewer)
            if changes:
                stored = {k: int(v) if k == "done" else v for k, v in changes.items()}
                await self._update_row(
                    "agenda_items", {"id": item_id}, stored, _AGENDA_EDITABLE, viewer
                )
        return await self.get(item_id, viewer=viewer)

    async def delete(self, item_id: str, *, viewer: str) -> None:
        async with self.db.transaction():
            await self.get(item_id, viewer=viewer)
            await self.db.execute("DELETE FROM agenda_items WHERE id = ?", (item_id,))

    async def move_open(self, from_meeting: str, to_meeting: str, *, viewer: str) -> int:
        """Move the items not yet done to another meeting (at the end of their section), unless
        it has the same item already; returns how many moved."""
        moved = 0
        async with self.db.transaction():
            already = {(i.section, i.text) for i in await self.list(to_meeting, viewer=viewer)}
            for item in await self.list(from_meeting, viewer=viewer):
                if item.done or (item.section, item.text) in already:
                    continue
                already.add((item.section, item.text))
                await self.db.execute(
                    "UPDATE agenda_items SET meeting_id = :to, position = (SELECT"
                    " COALESCE(MAX(position), -1) + 1 FROM agenda_items WHERE meeting_id = :to"
                    " AND section = :section), updated_by = :viewer, updated_at = :now"
                    " WHERE id = :id",
                    {
                        "to": to_meeting,
                        "section": item.section,
                        "viewer": viewer,
                        "now": now_iso(),
                        "id": item.id,
                    },
                )
                moved += 1
        return moved
