"""Zoom's own tables, numbered from 1 and recorded as platform `zoom`.

Until issue 15 these were the core's migration 10: databases made before then already have them
(and record core version 10, now empty), so migration 1 creates each only where it is missing.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
-- A person's linked Zoom user, with the OAuth tokens encrypted (AES-GCM).
CREATE TABLE IF NOT EXISTS zoom_accounts (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    zoom_user_id TEXT NOT NULL UNIQUE,
    zoom_email TEXT NOT NULL DEFAULT '',
    tokens BLOB,               -- AES-256-GCM sealed JSON {access_token, refresh_token}
    token_expires_at TEXT,
    scope TEXT NOT NULL DEFAULT '',
    linked_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Short one-time codes a signed-in person shows the Zoom App to link their account in Zoom.
CREATE TABLE IF NOT EXISTS zoom_link_codes (
    code_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
-- Which mentorship a Zoom meeting (its number: recurring meetings keep it) belongs to.
CREATE TABLE IF NOT EXISTS zoom_meeting_links (
    zoom_meeting_id TEXT NOT NULL,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    linked_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (zoom_meeting_id, mentorship_id)
);
-- One Zoom meeting instance (UUID) is one of the pair's meetings.
CREATE TABLE IF NOT EXISTS zoom_meeting_instances (
    zoom_uuid TEXT PRIMARY KEY,
    zoom_meeting_id TEXT NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
-- Verified webhook events, stored before the 200 and processed by a worker (restart-safe).
CREATE TABLE IF NOT EXISTS zoom_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    processed_at TEXT,
    outcome TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS zoom_events_pending ON zoom_events(processed_at, id);
""",
    ),
]
