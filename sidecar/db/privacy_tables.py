"""Which of the core's tables hold whose rows: the SELECTs of the export, and the tables left
out of it with the reason. Platforms declare their own tables the same way (in their store
modules); `sidecar/privacy.py` merges them. A test checks every table of the schema is declared,
on each backend, so a new table cannot be forgotten by either the export or the erasure.
"""

from __future__ import annotations

from sidecar.platforms.hookspecs import PrivacyDeclaration

# For a declaration's `mentorship_tables` (the core's and the platforms'): the ids of the
# mentorship's meetings, with `:mentorship` bound.
MEETINGS_OF_MENTORSHIP = "(SELECT id FROM meetings WHERE mentorship_id = :mentorship)"

# Rows about the person: SQL selecting them, with `:person` bound. Secrets are left out: only
# hashes are stored, and not even those leave the service.
PERSON_TABLES: dict[str, str] = {
    "people": "SELECT * FROM people WHERE id = :person",
    "access_tokens": (
        "SELECT id, kind, label, device, created_at, expires_at, last_used_at, revoked_at"
        " FROM access_tokens WHERE person_id = :person ORDER BY created_at, id"
    ),
    "calendar_feeds": (
        "SELECT created_at, revoked_at FROM calendar_feeds WHERE person_id = :person"
        " ORDER BY created_at"
    ),
    "signin_links": (
        "SELECT created_at, expires_at, used_at FROM signin_links WHERE person_id = :person"
        " ORDER BY created_at"
    ),
    "photos": "SELECT content_type, updated_at FROM photos WHERE person_id = :person",
    "profile_erasures": "SELECT * FROM profile_erasures WHERE person_id = :person",
}

# Rows of one mentorship, with `:mentorship` bound. Each goes with the mentorship by ON DELETE
# CASCADE. Ordered, so an export reads the same on either backend.
_MEETINGS = MEETINGS_OF_MENTORSHIP
MENTORSHIP_TABLES: dict[str, str] = {
    "mentorships": "SELECT * FROM mentorships WHERE id = :mentorship",
    "agreements": "SELECT * FROM agreements WHERE mentorship_id = :mentorship",
    "agreement_confirmations": (
        "SELECT * FROM agreement_confirmations WHERE mentorship_id = :mentorship ORDER BY person_id"
    ),
    "invites": (
        "SELECT role, created_by, created_at, expires_at, accepted_by, accepted_at"
        " FROM invites WHERE mentorship_id = :mentorship ORDER BY created_at, role"
    ),
    "goals": "SELECT * FROM goals WHERE mentorship_id = :mentorship ORDER BY created_at, id",
    "goal_progress": (
        "SELECT * FROM goal_progress WHERE goal_id IN"
        " (SELECT id FROM goals WHERE mentorship_id = :mentorship) ORDER BY created_at, id"
    ),
    "meetings": (
        "SELECT * FROM meetings WHERE mentorship_id = :mentorship ORDER BY scheduled_start, id"
    ),
    "agenda_items": (
        f"SELECT * FROM agenda_items WHERE meeting_id IN {_MEETINGS} ORDER BY created_at, id"
    ),
    "action_items": (
        "SELECT * FROM action_items WHERE mentorship_id = :mentorship ORDER BY created_at, id"
    ),
    "step_reminders": (
        "SELECT * FROM step_reminders WHERE action_item_id IN"
        " (SELECT id FROM action_items WHERE mentorship_id = :mentorship)"
        " ORDER BY action_item_id, due_date"
    ),
    "mentorship_erasures": "SELECT * FROM mentorship_erasures WHERE mentorship_id = :mentorship",
    "summaries": f"SELECT * FROM summaries WHERE meeting_id IN {_MEETINGS} ORDER BY meeting_id",
    "summary_copies": (
        f"SELECT * FROM summary_copies WHERE meeting_id IN {_MEETINGS}"
        " ORDER BY meeting_id, person_id"
    ),
    "meeting_agreements": (
        f"SELECT * FROM meeting_agreements WHERE meeting_id IN {_MEETINGS} ORDER BY created_at, id"
    ),
    "meeting_attendance": (
        f"SELECT * FROM meeting_attendance WHERE meeting_id IN {_MEETINGS}"
        " ORDER BY meeting_id, person_id"
    ),
    "reminders": f"SELECT * FROM reminders WHERE meeting_id IN {_MEETINGS} ORDER BY id",
    "outbox": (
        "SELECT id, kind, meeting_id, person_id, recipient, subject, created_at, attempts,"
        f" last_error, sent_at FROM outbox WHERE meeting_id IN {_MEETINGS} ORDER BY id"
    ),
}

# Tables whose rows are not exported as rows, and why (on every backend).
NOT_EXPORTED: dict[str, str] = {
    "schema_version": "the service's own bookkeeping",
    "note_updates": "exported as each meeting's notes in Markdown (the binary Yjs history is not)",
    "note_updates_recent": "the newest of note_updates, not yet filed there: exported with them",
    "meeting_search": "a search index of summaries and notes, both exported",
    "platform_schema_version": "the service's own bookkeeping (each platform's migrations)",
}

# The database engine's own tables, which only one backend has.
ENGINE_TABLES: dict[str, dict[str, str]] = {
    "sqlite": {"sqlite_sequence": "SQLite's own bookkeeping (the AUTOINCREMENT counters)"},
    "postgresql": {},  # identity sequences are sequences, not tables
}


def core_privacy(dialect: str) -> PrivacyDeclaration:
    """The core's declaration on a backend of this dialect."""
    return PrivacyDeclaration(
        PERSON_TABLES, MENTORSHIP_TABLES, (), NOT_EXPORTED | ENGINE_TABLES[dialect]
    )
