"""Jitsi's own tables, numbered from 1 and recorded as platform `jitsi`.

Until issue 15 this table was the core's migration 11: databases made before then already have
it (and record core version 11, now empty), so migration 1 creates it only where it is missing.
"""

from __future__ import annotations

from sidecar.db import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        1,
        sqlite="""
-- Each meeting's room, named by the service with 128 random bits (lower case, as Jitsi
-- lower-cases room names), so only the pair's tokens lead into it.
CREATE TABLE IF NOT EXISTS jitsi_rooms (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
    room_name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
""",
        # The same text: its columns are TEXT on both.
        postgres="""
-- Each meeting's room, named by the service with 128 random bits (lower case, as Jitsi
-- lower-cases room names), so only the pair's tokens lead into it.
CREATE TABLE IF NOT EXISTS jitsi_rooms (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
    room_name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
""",
    ),
]
