"""A person's data, theirs to take and to erase.

`export_archive` gathers everything the service holds about a person and the mentorships they
belong to into one zip file. `delete_mentorship` closes what is open of a mentorship, removes it
and everything of it, then scrubs what the database would otherwise keep of the deleted rows
(sidecar/db/repositories/privacy.py: on SQLite the search index's old segments and the
write-ahead log, `secure_delete` being on; on PostgreSQL the dead tuples, by VACUUM).

Which table belongs to whom is declared once: the core's in sidecar/db/privacy_tables.py, each
platform's in its own `privacy` declaration (sidecar/platforms/hookspecs.py), merged by
`declarations(app)`; a test checks every table of the schema is declared or in `not_exported`
with a reason, so a new table cannot be forgotten by either the export or the deletion. The SQL
is the storage layer's; this module decides what goes into the archive and the order of steps.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sidecar.db.repositories.privacy import PrivacyRepository, TableRows
from sidecar.domain.ids import now_iso
from sidecar.keys import NOTE_ROOMS, PLATFORMS, REPOS
from sidecar.platforms.hookspecs import PrivacyDeclaration
from sidecar.web.open_sockets import CLOSE_GONE, close_mentorship_sockets

log = logging.getLogger(__name__)


def _repo(app: web.Application) -> PrivacyRepository:
    return app[REPOS].privacy


def declarations(app: web.Application) -> list[PrivacyDeclaration]:
    """The core's declaration (for this backend), then each enabled platform's."""
    core = _repo(app).core_declaration()
    return [core, *(active.platform.privacy for active in app[PLATFORMS])]


def declared_tables(app: web.Application) -> dict[str, set[str]]:
    """Every declared table by how: "person", "mentorship", "not exported"."""
    found: dict[str, set[str]] = {"person": set(), "mentorship": set(), "not exported": set()}
    for declared in declarations(app):
        found["person"] |= set(declared.person_tables)
        found["mentorship"] |= set(declared.mentorship_tables)
        found["not exported"] |= set(declared.not_exported)
    return found


async def schema_tables(app: web.Application) -> set[str]:
    """Every table the database holds, as its engine lists them (for the declarations' test)."""
    return await _repo(app).table_names()


@dataclass(frozen=True)
class Archive:
    filename: str
    data: bytes


def _json(table: TableRows) -> str:
    def plain(value: Any) -> Any:
        return value.hex() if isinstance(value, bytes) else value

    clean = [{key: plain(value) for key, value in row.items()} for row in table.rows]
    return json.dumps(clean, ensure_ascii=False, indent=2) + "\n"


async def export_archive(app: web.Application, person_id: str) -> Archive:
    repo = _repo(app)
    rooms = app[NOTE_ROOMS]
    declared = declarations(app)
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
        for table in await repo.person_rows(person_id, declared):
            archive.writestr(f"person/{table.table}.json", _json(table))
        photo = await repo.photo(person_id)
        if photo is not None:
            archive.writestr("person/photo.jpg", photo)
        for mentorship_id in await repo.mentorship_ids_of(person_id):
            folder = f"mentorships/{mentorship_id}"
            for table in await repo.mentorship_rows(mentorship_id, declared):
                archive.writestr(f"{folder}/{table.table}.json", _json(table))
            for meeting in await repo.meetings_of(mentorship_id):
                text = await rooms.read_text(meeting.id)
                if text:
                    day = meeting.scheduled_start[:10]
                    archive.writestr(f"{folder}/notes/{day}-{meeting.id}.md", text)
    return Archive(f"mentor-sidecar-export-{now_iso()[:10]}.zip", buffer.getvalue())


async def delete_mentorship(app: web.Application, mentorship_id: str) -> None:
    """Remove a mentorship and everything of it; the caller has checked membership."""
    repo = _repo(app)
    rooms = app[NOTE_ROOMS]
    meetings = await repo.meetings_of(mentorship_id)
    # Close the live notes and events first, so no update of these meetings is written after
    # the delete. 4410 is in the range y-websocket does not reconnect after.
    await close_mentorship_sockets(app, mentorship_id)
    for meeting in meetings:
        room = rooms.get(meeting.id)
        if room is not None:
            await rooms.drop(room, CLOSE_GONE, b"mentorship erased")
            await room.flushed()  # its pending commits land before the delete
    await repo.delete_mentorship(mentorship_id, declarations(app))
    await repo.scrub()
    log.info("mentorship %s deleted with its %d meeting(s)", mentorship_id, len(meetings))


async def scrub(app: web.Application) -> None:
    """Leave no copy of deleted rows where the database keeps them (after an erasure)."""
    await _repo(app).scrub()
