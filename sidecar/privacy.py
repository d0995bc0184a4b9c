"""A person's data, theirs to take and to erase.

`export_archive` gathers everything the service holds about a person and the mentorships they
belong to into one zip file. `delete_mentorship` removes a mentorship and everything of it, then
scrubs what SQLite would otherwise keep around: freed pages (`secure_delete` is on for every
connection), the FTS5 index's old segments, and the write-ahead log.

Which table belongs to whom is declared once: the core's in `CORE_PRIVACY`, each platform's in
its own `privacy` declaration (sidecar/platforms/hookspecs.py), merged by `declarations(app)`; a
test checks every table of the schema is declared or in `not_exported` with a reason, so a new
table cannot be forgotten by either the export or the deletion.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sidecar.db import Database
from sidecar.domain.ids import now_iso
from sidecar.keys import DATABASE, NOTE_ROOMS, PLATFORMS
from sidecar.platforms.hookspecs import PrivacyDeclaration
from sidecar.web.open_sockets import CLOSE_GONE, close_mentorship_sockets

log = logging.getLogger(__name__)

# Rows about the person: SQL selecting them, with `:person` bound. Secrets are left out: only
# hashes are stored, and not even those leave the service.
PERSON_TABLES: dict[str, str] = {
    "people": "SELECT * FROM people WHERE id = :person",
    "access_tokens": (
        "SELECT id, kind, label, device, created_at, expires_at, last_used_at, revoked_at"
        " FROM access_tokens WHERE person_id = :person"
    ),
    "calendar_feeds": (
        "SELECT created_at, revoked_at FROM calendar_feeds WHERE person_id = :person"
    ),
    "signin_links": (
        "SELECT created_at, expires_at, used_at FROM signin_links WHERE person_id = :person"
    ),
    "photos": "SELECT content_type, updated_at FROM photos WHERE person_id = :person",
    "profile_erasures": "SELECT * FROM profile_erasures WHERE person_id = :person",
}

# Rows of one mentorship, with `:mentorship` bound; `meetings_of` is the subquery of its meetings.
_MEETINGS = "(SELECT id FROM meetings WHERE mentorship_id = :mentorship)"
MENTORSHIP_TABLES: dict[str, str] = {
    "mentorships": "SELECT * FROM mentorships WHERE id = :mentorship",
    "agreements": "SELECT * FROM agreements WHERE mentorship_id = :mentorship",
    "agreement_confirmations": (
        "SELECT * FROM agreement_confirmations WHERE mentorship_id = :mentorship"
    ),
    "invites": (
        "SELECT role, created_by, created_at, expires_at, accepted_by, accepted_at"
        " FROM invites WHERE mentorship_id = :mentorship"
    ),
    "goals": "SELECT * FROM goals WHERE mentorship_id = :mentorship",
    "goal_progress": (
        "SELECT * FROM goal_progress WHERE goal_id IN"
        " (SELECT id FROM goals WHERE mentorship_id = :mentorship)"
    ),
    "meetings": "SELECT * FROM meetings WHERE mentorship_id = :mentorship",
    "agenda_items": f"SELECT * FROM agenda_items WHERE meeting_id IN {_MEETINGS}",
    "action_items": "SELECT * FROM action_items WHERE mentorship_id = :mentorship",
    "step_reminders": (
        "SELECT * FROM step_reminders WHERE action_item_id IN"
        " (SELECT id FROM action_items WHERE mentorship_id = :mentorship)"
    ),
    "mentorship_erasures": ("SELECT * FROM mentorship_erasures WHERE mentorship_id = :mentorship"),
    "summaries": f"SELECT * FROM summaries WHERE meeting_id IN {_MEETINGS}",
    "summary_copies": f"SELECT * FROM summary_copies WHERE meeting_id IN {_MEETINGS}",
    "meeting_agreements": f"SELECT * FROM meeting_agreements WHERE meeting_id IN {_MEETINGS}",
    "meeting_attendance": f"SELECT * FROM meeting_attendance WHERE meeting_id IN {_MEETINGS}",
    "reminders": f"SELECT * FROM reminders WHERE meeting_id IN {_MEETINGS}",
    "outbox": (
        "SELECT id, kind, meeting_id, person_id, recipient, subject, created_at, attempts,"
        f" last_error, sent_at FROM outbox WHERE meeting_id IN {_MEETINGS}"
    ),
}

# Tables whose rows are not exported as rows, and why.
NOT_EXPORTED: dict[str, str] = {
    "schema_version": "the service's own bookkeeping",
    "note_updates": "exported as each meeting's notes in Markdown (the binary Yjs history is not)",
    "meeting_search": "a search index of summaries and notes, both exported",
    "sqlite_sequence": "SQLite's own bookkeeping",
    "platform_schema_version": "the service's own bookkeeping (each platform's migrations)",
}

CORE_PRIVACY = PrivacyDeclaration(PERSON_TABLES, MENTORSHIP_TABLES, (), NOT_EXPORTED)


def declarations(app: web.Application) -> list[PrivacyDeclaration]:
    """The core's declaration, then each enabled platform's."""
    return [CORE_PRIVACY, *(active.platform.privacy for active in app[PLATFORMS])]


def declared_tables(app: web.Application) -> dict[str, set[str]]:
    """Every declared table by how: "person", "mentorship", "not exported"."""
    found: dict[str, set[str]] = {"person": set(), "mentorship": set(), "not exported": set()}
    for declared in declarations(app):
        found["person"] |= set(declared.person_tables)
        found["mentorship"] |= set(declared.mentorship_tables)
        found["not exported"] |= set(declared.not_exported)
    return found


@dataclass(frozen=True)
class Archive:
    filename: str
    data: bytes


def _json(rows: list[dict[str, Any]]) -> str:
    def plain(value: Any) -> Any:
        return value.hex() if isinstance(value, bytes) else value

    clean = [{key: plain(value) for key, value in row.items()} for row in rows]
    return json.dumps(clean, ensure_ascii=False, indent=2) + "\n"


async def export_archive(app: web.Application, person_id: str) -> Archive:
    db: Database = app[DATABASE]
    rooms = app[NOTE_ROOMS]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Everything Mentor Sidecar holds about you and your mentorships, "
            f"exported {now_iso()}.\n\n"
            "person/            your profile, tokens (never their secrets), photo\n"
            "mentorships/ID/    each mentorship: one JSON file per kind of record,\n"
            "                   and notes/ with each meeting's notes as Markdown\n",
        )
        for declared in declarations(app):
            for table, sql in declared.person_tables.items():
                rows = await db.fetch_all(sql, {"person": person_id})
                archive.writestr(f"person/{table}.json", _json(rows))
        photo = await db.fetch_one("SELECT data FROM photos WHERE person_id = ?", (person_id,))
        if photo is not None:
            archive.writestr("person/photo.jpg", bytes(photo["data"]))
        mentorships = await db.fetch_all(
            "SELECT id FROM mentorships WHERE mentor_id = ? OR mentee_id = ? ORDER BY created_at",
            (person_id, person_id),
        )
        for mentorship in mentorships:
            folder = f"mentorships/{mentorship['id']}"
            for declared in declarations(app):
                for table, sql in declared.mentorship_tables.items():
                    rows = await db.fetch_all(sql, {"mentorship": mentorship["id"]})
                    archive.writestr(f"{folder}/{table}.json", _json(rows))
            meetings = await db.fetch_all(
                "SELECT id, title, scheduled_start FROM meetings WHERE mentorship_id = ?"
                " ORDER BY scheduled_start",
                (mentorship["id"],),
            )
            for meeting in meetings:
                text = await rooms.read_text(meeting["id"])
                if text:
                    day = meeting["scheduled_start"][:10]
                    archive.writestr(f"{folder}/notes/{day}-{meeting['id']}.md", text)
    return Archive(f"mentor-sidecar-export-{now_iso()[:10]}.zip", buffer.getvalue())


async def delete_mentorship(app: web.Application, mentorship_id: str) -> None:
    """Remove a mentorship and everything of it; the caller has checked membership."""
    db: Database = app[DATABASE]
    rooms = app[NOTE_ROOMS]
    meeting_ids = [
        row["id"]
        for row in await db.fetch_all(
            "SELECT id FROM meetings WHERE mentorship_id = ?", (mentorship_id,)
        )
    ]
    # Close the live notes and events first, so no update of these meetings is written after
    # the delete. 4410 is in the range y-websocket does not reconnect after.
    await close_mentorship_sockets(app, mentorship_id)
    for meeting_id in meeting_ids:
        room = rooms.get(meeting_id)
        if room is not None:
            await rooms.drop(room, CLOSE_GONE, b"mentorship erased")
            await room.flushed()  # its pending commits land before the delete
    async with db.transaction():
        # FTS5 tables have no foreign keys; everything else goes by ON DELETE CASCADE.
        await db.execute("DELETE FROM meeting_search WHERE mentorship_id = ?", (mentorship_id,))
        for declared in declarations(app):  # rows no foreign key ties to the mentorship
            for statement in declared.erase_with_mentorship:
                await db.execute(statement, {"mentorship": mentorship_id})
        await db.execute("DELETE FROM mentorships WHERE id = ?", (mentorship_id,))
    await scrub(db)
    log.info("mentorship %s deleted with its %d meeting(s)", mentorship_id, len(meeting_ids))


async def scrub(db: Database) -> None:
    """Leave no copy of deleted rows in the file: merge the search index's segments (its old
    ones still hold deleted words), then copy the log into the database and truncate it."""
    await db.execute("INSERT INTO meeting_search(meeting_search) VALUES ('optimize')")
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
