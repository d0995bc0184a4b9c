"""Numbered schema migrations for both dialects, applied in order, each recorded in
`schema_version`.

Add a migration by appending to MIGRATIONS, with its SQLite and its PostgreSQL text; never edit
one that has shipped. Each runs in a transaction of its own, with its row in schema_version: it
lands whole or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import aiosqlite

from sidecar.domain.ids import now_iso

if TYPE_CHECKING:
    import asyncpg


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: the same change written for each dialect."""

    version: int
    sqlite: str
    postgres: str

    def text(self, dialect: Literal["sqlite", "postgresql"]) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgres


# Migration 15 is the same text on both dialects.
_MIGRATION_15 = """
-- Each person's own copy of a meeting's summary (sidecar/summary/): the same facts with every
-- time in their own time zone, as in the email they were sent. summaries.body_markdown stays
-- the shared copy (the pair's chat webhook) and what older meetings fall back to.
CREATE TABLE summary_copies (
    meeting_id TEXT NOT NULL REFERENCES summaries(meeting_id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    body_markdown TEXT NOT NULL,
    PRIMARY KEY (meeting_id, person_id)
);
-- Time zones under their current IANA names (sidecar/timezones.py): "Asia/Calcutta" was stored
-- as the browser reported it; the service now stores "Asia/Kolkata".
CREATE TEMP TABLE renamed_zones (legacy TEXT PRIMARY KEY, canonical TEXT NOT NULL);
INSERT INTO renamed_zones VALUES
    ('Africa/Asmera', 'Africa/Asmara'), ('Africa/Timbuktu', 'Africa/Bamako'),
    ('America/Buenos_Aires', 'America/Argentina/Buenos_Aires'),
    ('America/Catamarca', 'America/Argentina/Catamarca'),
    ('America/Coral_Harbour', 'America/Atikokan'),
    ('America/Cordoba', 'America/Argentina/Cordoba'),
    ('America/Fort_Wayne', 'America/Indiana/Indianapolis'), ('America/Godthab', 'America/Nuuk'),
    ('America/Indianapolis', 'America/Indiana/Indianapolis'),
    ('America/Jujuy', 'America/Argentina/Jujuy'), ('America/Knox_IN', 'America/Indiana/Knox'),
    ('America/Louisville', 'America/Kentucky/Louisville'),
    ('America/Mendoza', 'America/Argentina/Mendoza'), ('America/Montreal', 'America/Toronto'),
    ('America/Rosario', 'America/Argentina/Cordoba'), ('Asia/Ashkhabad', 'Asia/Ashgabat'),
    ('Asia/Calcutta', 'Asia/Kolkata'), ('Asia/Chongqing', 'Asia/Shanghai'),
    ('Asia/Chungking', 'Asia/Shanghai'), ('Asia/Dacca', 'Asia/Dhaka'),
    ('Asia/Harbin', 'Asia/Shanghai'), ('Asia/Istanbul', 'Europe/Istanbul'),
    ('Asia/Katmandu', 'Asia/Kathmandu'), ('Asia/Macao', 'Asia/Macau'),
    ('Asia/Rangoon', 'Asia/Yangon'), ('Asia/Saigon', 'Asia/Ho_Chi_Minh'),
    ('Asia/Tel_Aviv', 'Asia/Jerusalem'), ('Asia/Thimbu', 'Asia/Thimphu'),
    ('Asia/Ujung_Pandang', 'Asia/Makassar'), ('Asia/Ulan_Bator', 'Asia/Ulaanbaatar'),
    ('Atlantic/Faeroe', 'Atlantic/Faroe'), ('Australia/ACT', 'Australia/Sydney'),
    ('Australia/Canberra', 'Australia/Sydney'), ('Australia/NSW', 'Australia/Sydney'),
    ('Australia/North', 'Australia/Darwin'), ('Australia/Queensland', 'Australia/Brisbane'),
    ('Australia/South', 'Australia/Adelaide'), ('Australia/Tasmania', 'Australia/Hobart'),
    ('Australia/Victoria', 'Australia/Melbourne'), ('Australia/West', 'Australia/Perth'),
    ('Brazil/East', 'America/Sao_Paulo'), ('Canada/Atlantic', 'America/Halifax'),
    ('Canada/Central', 'America/Winnipeg'), ('Canada/Eastern', 'America/Toronto'),
    ('Canada/Mountain', 'America/Edmonton'), ('Canada/Newfoundland', 'America/St_Johns'),
    ('Canada/Pacific', 'America/Vancouver'), ('Etc/GMT', 'UTC'), ('Etc/UCT', 'UTC'),
    ('Etc/UTC', 'UTC'), ('Etc/Universal', 'UTC'), ('Etc/Zulu', 'UTC'),
    ('Europe/Kiev', 'Europe/Kyiv'), ('Europe/Uzhgorod', 'Europe/Kyiv'),
    ('Europe/Zaporozhye', 'Europe/Kyiv'), ('GB', 'Europe/London'), ('GMT', 'UTC'),
    ('Hongkong', 'Asia/Hong_Kong'), ('Iceland', 'Atlantic/Reykjavik'),
    ('Israel', 'Asia/Jerusalem'), ('Japan', 'Asia/Tokyo'),
    ('Mexico/General', 'America/Mexico_City'), ('NZ', 'Pacific/Auckland'),
    ('PRC', 'Asia/Shanghai'), ('Pacific/Enderbury', 'Pacific/Kanton'),
    ('Pacific/Ponape', 'Pacific/Pohnpei'), ('Pacific/Samoa', 'Pacific/Pago_Pago'),
    ('Pacific/Truk', 'Pacific/Chuuk'), ('Pacific/Yap', 'Pacific/Chuuk'), ('ROC', 'Asia/Taipei'),
    ('ROK', 'Asia/Seoul'), ('Singapore', 'Asia/Singapore'), ('Turkey', 'Europe/Istanbul'),
    ('UCT', 'UTC'), ('US/Alaska', 'America/Anchorage'), ('US/Arizona', 'America/Phoenix'),
    ('US/Central', 'America/Chicago'), ('US/East-Indiana', 'America/Indiana/Indianapolis'),
    ('US/Eastern', 'America/New_York'), ('US/Hawaii', 'Pacific/Honolulu'),
    ('US/Michigan', 'America/Detroit'), ('US/Mountain', 'America/Denver'),
    ('US/Pacific', 'America/Los_Angeles'), ('Universal', 'UTC'), ('W-SU', 'Europe/Moscow'),
    ('Zulu', 'UTC');
UPDATE people SET timezone = (SELECT canonical FROM renamed_zones WHERE legacy = people.timezone)
    WHERE timezone IN (SELECT legacy FROM renamed_zones);
DROP TABLE renamed_zones;
"""

# Migration 17 is the same text on both dialects.
_MIGRATION_17 = """
-- Several processes may send from one database: a worker claims the messages it sends
-- (sidecar/db/repositories/outbox.py); a claim older than MENTOR_SIDECAR_CLAIM_TIMEOUT_SECONDS
-- belongs to a process that died and is taken over.
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
"""

# Every row a person writes carries who (`created_by`, `updated_by`: a person id) and when
# (`created_at`, `updated_at`: ISO 8601 UTC). Ids are random, so they reveal nothing of other pairs.
MIGRATIONS: list[Migration] = [
    Migration(
        1,
        sqlite="""
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    timezone TEXT NOT NULL,
    locale TEXT NOT NULL,
    about TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE access_tokens (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('api', 'session')),
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX access_tokens_person ON access_tokens(person_id);

CREATE TABLE signin_links (
    code_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE mentorships (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    mentor_id TEXT REFERENCES people(id),
    mentee_id TEXT REFERENCES people(id),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL,
    CHECK (mentor_id IS NULL OR mentee_id IS NULL OR mentor_id <> mentee_id)
);
CREATE INDEX mentorships_mentor ON mentorships(mentor_id);
CREATE INDEX mentorships_mentee ON mentorships(mentee_id);

CREATE TABLE agreements (
    mentorship_id TEXT PRIMARY KEY REFERENCES mentorships(id) ON DELETE CASCADE,
    meeting_cadence TEXT NOT NULL DEFAULT '',
    communication_channels TEXT NOT NULL DEFAULT '',
    communication_frequency TEXT NOT NULL DEFAULT '',
    confidentiality TEXT NOT NULL DEFAULT '',
    feedback_and_encouragement TEXT NOT NULL DEFAULT '',
    objectives TEXT NOT NULL DEFAULT '',
    cultural_differences TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);

CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('mentor', 'mentee')),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_by TEXT REFERENCES people(id),
    accepted_at TEXT
);
CREATE INDEX invites_mentorship ON invites(mentorship_id);

CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'dropped')),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX goals_mentorship ON goals(mentorship_id);

CREATE TABLE goal_progress (
    id TEXT PRIMARY KEY,
    goal_id TEXT NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    entry_date TEXT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('on_track', 'at_risk', 'blocked', 'done')),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX goal_progress_goal ON goal_progress(goal_id, entry_date);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    scheduled_start TEXT NOT NULL,
    scheduled_end TEXT NOT NULL,
    platform TEXT NOT NULL CHECK (platform IN ('zoom', 'jitsi', 'link')),
    join_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'live', 'ended')),
    started_at TEXT,
    ended_at TEXT,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL,
    CHECK (scheduled_end > scheduled_start)
);
CREATE INDEX meetings_mentorship ON meetings(mentorship_id, scheduled_start);

CREATE TABLE agenda_items (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    section TEXT NOT NULL CHECK (section IN
        ('review', 'successes', 'challenges', 'goal_progress', 'topics', 'next_period')),
    text TEXT NOT NULL,
    position INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX agenda_items_meeting ON agenda_items(meeting_id, section, position);

CREATE TABLE action_items (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    owner_id TEXT REFERENCES people(id),
    due_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'dropped')),
    created_in_meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
    closed_in_meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX action_items_mentorship ON action_items(mentorship_id, status);

-- created_by is NULL when the service wrote the summary itself at the end of a call.
CREATE TABLE summaries (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
    body_markdown TEXT NOT NULL,
    created_by TEXT REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT REFERENCES people(id),
    updated_at TEXT NOT NULL
);
""",
        postgres="""
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    timezone TEXT NOT NULL,
    locale TEXT NOT NULL,
    about TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE access_tokens (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('api', 'session')),
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX access_tokens_person ON access_tokens(person_id);

CREATE TABLE signin_links (
    code_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE mentorships (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    mentor_id TEXT REFERENCES people(id),
    mentee_id TEXT REFERENCES people(id),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL,
    CHECK (mentor_id IS NULL OR mentee_id IS NULL OR mentor_id <> mentee_id)
);
CREATE INDEX mentorships_mentor ON mentorships(mentor_id);
CREATE INDEX mentorships_mentee ON mentorships(mentee_id);

CREATE TABLE agreements (
    mentorship_id TEXT PRIMARY KEY REFERENCES mentorships(id) ON DELETE CASCADE,
    meeting_cadence TEXT NOT NULL DEFAULT '',
    communication_channels TEXT NOT NULL DEFAULT '',
    communication_frequency TEXT NOT NULL DEFAULT '',
    confidentiality TEXT NOT NULL DEFAULT '',
    feedback_and_encouragement TEXT NOT NULL DEFAULT '',
    objectives TEXT NOT NULL DEFAULT '',
    cultural_differences TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);

CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('mentor', 'mentee')),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_by TEXT REFERENCES people(id),
    accepted_at TEXT
);
CREATE INDEX invites_mentorship ON invites(mentorship_id);

CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'dropped')),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX goals_mentorship ON goals(mentorship_id);

CREATE TABLE goal_progress (
    id TEXT PRIMARY KEY,
    goal_id TEXT NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    entry_date TEXT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('on_track', 'at_risk', 'blocked', 'done')),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX goal_progress_goal ON goal_progress(goal_id, entry_date);

-- The CHECKs are named, so later migrations (13, 16) can drop or replace them by name.
CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    scheduled_start TEXT NOT NULL,
    scheduled_end TEXT NOT NULL,
    platform TEXT NOT NULL
        CONSTRAINT meetings_platform_check CHECK (platform IN ('zoom', 'jitsi', 'link')),
    join_url TEXT,
    status TEXT NOT NULL
        CONSTRAINT meetings_status_check CHECK (status IN ('scheduled', 'live', 'ended')),
    started_at TEXT,
    ended_at TEXT,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL,
    CONSTRAINT meetings_scheduled_check CHECK (scheduled_end > scheduled_start)
);
CREATE INDEX meetings_mentorship ON meetings(mentorship_id, scheduled_start);

CREATE TABLE agenda_items (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    section TEXT NOT NULL CHECK (section IN
        ('review', 'successes', 'challenges', 'goal_progress', 'topics', 'next_period')),
    text TEXT NOT NULL,
    position INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX agenda_items_meeting ON agenda_items(meeting_id, section, position);

CREATE TABLE action_items (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    owner_id TEXT REFERENCES people(id),
    due_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'dropped')),
    created_in_meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
    closed_in_meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX action_items_mentorship ON action_items(mentorship_id, status);

CREATE TABLE summaries (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
    body_markdown TEXT NOT NULL,
    created_by TEXT REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT REFERENCES people(id),
    updated_at TEXT NOT NULL
);
""",
    ),
    Migration(
        2,
        sqlite="""
-- Live notes: the Yjs updates of each meeting's document, in arrival order. Compaction replaces
-- a run of updates by one merged snapshot row (is_snapshot = 1).
CREATE TABLE note_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    data BLOB NOT NULL,
    is_snapshot INTEGER NOT NULL DEFAULT 0 CHECK (is_snapshot IN (0, 1)),
    created_by TEXT REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX note_updates_meeting ON note_updates(meeting_id, id);
""",
        postgres="""
CREATE TABLE note_updates (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    data BYTEA NOT NULL,
    is_snapshot INTEGER NOT NULL DEFAULT 0 CHECK (is_snapshot IN (0, 1)),
    created_by TEXT REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX note_updates_meeting ON note_updates(meeting_id, id);
""",
    ),
    Migration(
        3,
        sqlite="""
-- Email waiting to go out, and what went out. The whole message is stored, so a retry sends the
-- same bytes (same Message-ID). dedupe_key makes enqueueing idempotent.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    meeting_id TEXT REFERENCES meetings(id) ON DELETE CASCADE,
    person_id TEXT REFERENCES people(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message BLOB NOT NULL,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);
CREATE INDEX outbox_meeting ON outbox(meeting_id);
""",
        postgres="""
CREATE TABLE outbox (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    meeting_id TEXT REFERENCES meetings(id) ON DELETE CASCADE,
    person_id TEXT REFERENCES people(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);
CREATE INDEX outbox_meeting ON outbox(meeting_id);
""",
    ),
    Migration(
        4,
        sqlite="""
-- The agreement is versioned; a person's confirmation counts for the version they confirmed.
ALTER TABLE agreements ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE agreement_confirmations (
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (mentorship_id, person_id)
);

-- When the agenda went out, and how often a meeting moved (iCalendar SEQUENCE).
ALTER TABLE meetings ADD COLUMN agenda_sent_at TEXT;
ALTER TABLE meetings ADD COLUMN agenda_sent_by TEXT REFERENCES people(id);
ALTER TABLE meetings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

-- Reminders, scheduled when a meeting is made or moved; done_at is set once one is handled.
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('agenda_due', 'starting_soon')),
    due_at TEXT NOT NULL,
    done_at TEXT,
    outcome TEXT CHECK (outcome IN ('sent', 'skipped')),
    UNIQUE (meeting_id, person_id, kind)
);
CREATE INDEX reminders_due ON reminders(done_at, due_at);

-- A person's private calendar subscription; only the hash of the URL's secret is kept.
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE photos (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
""",
        postgres="""
ALTER TABLE agreements ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE agreement_confirmations (
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (mentorship_id, person_id)
);

ALTER TABLE meetings ADD COLUMN agenda_sent_at TEXT;
ALTER TABLE meetings ADD COLUMN agenda_sent_by TEXT REFERENCES people(id);
ALTER TABLE meetings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reminders (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('agenda_due', 'starting_soon')),
    due_at TEXT NOT NULL,
    done_at TEXT,
    outcome TEXT CHECK (outcome IN ('sent', 'skipped')),
    UNIQUE (meeting_id, person_id, kind)
);
CREATE INDEX reminders_due ON reminders(done_at, due_at);

CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE photos (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);
""",
    ),
    Migration(
        5,
        sqlite="""
-- Who was in the meeting (a panel socket open), first and last seen; and how the call ended.
CREATE TABLE meeting_attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, person_id)
);
ALTER TABLE meetings ADD COLUMN ended_by TEXT;  -- panel, idle, zoom, jitsi
""",
        postgres="""
CREATE TABLE meeting_attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, person_id)
);
ALTER TABLE meetings ADD COLUMN ended_by TEXT;
""",
    ),
    Migration(
        6,
        sqlite="""
-- Past meetings, searchable: title, summary and notes of each ended meeting (SQLite FTS5).
CREATE VIRTUAL TABLE meeting_search USING fts5(
    meeting_id UNINDEXED, mentorship_id UNINDEXED, title, summary, notes,
    tokenize = 'unicode61 remove_diacritics 2'
);
""",
        postgres="""
-- The same table as SQLite's FTS5 one, with a generated tsvector and a GIN index. Words are cut
-- and folded by `sidecar_search`: the simple configuration (lower case, no stemming, no stop
-- words) with accents removed first, as FTS5's `remove_diacritics 2`. unaccent is a trusted
-- extension: the role needs CREATE on the database, or the extension installed beforehand.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION sidecar_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION sidecar_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part,
        numword, numhword, hword_numpart
    WITH unaccent, simple;
CREATE TABLE meeting_search (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
    mentorship_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    -- The title weighs most, then the summary, then the notes (for ts_rank). Punctuation is a
    -- space first: the parser would read ana@example.org, x.org/page, 2026-12-01 or 2.5 as one
    -- token where FTS5 sees words (sidecar/db/search.py cuts its headlines the same way).
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('sidecar_search'::regconfig,
            regexp_replace(title, '[[:punct:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('sidecar_search'::regconfig,
            regexp_replace(summary, '[[:punct:]]+', ' ', 'g')), 'B')
        || setweight(to_tsvector('sidecar_search'::regconfig,
            regexp_replace(notes, '[[:punct:]]+', ' ', 'g')), 'C')
    ) STORED
);
CREATE INDEX meeting_search_document ON meeting_search USING GIN (document);
CREATE INDEX meeting_search_mentorship ON meeting_search(mentorship_id);
""",
    ),
    Migration(
        7,
        sqlite="""
-- Where the pair wants their summaries posted too (their own chat), if anywhere.
ALTER TABLE mentorships ADD COLUMN summary_webhook_url TEXT;
""",
        postgres="""
ALTER TABLE mentorships ADD COLUMN summary_webhook_url TEXT;
""",
    ),
    Migration(
        8,
        sqlite="""
-- Agreements the pair writes down explicitly in the panel during a meeting (besides the
-- `Agreed: ...` lines of the notes).
CREATE TABLE meeting_agreements (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX meeting_agreements_meeting ON meeting_agreements(meeting_id, created_at);
""",
        postgres="""
CREATE TABLE meeting_agreements (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX meeting_agreements_meeting ON meeting_agreements(meeting_id, created_at);
""",
    ),
    Migration(
        9,
        sqlite="""
-- Attendance from the call itself (Zoom, Jitsi), not only the panel: when each person was
-- first in the call (punctuality) and when they left it last, and which source said so.
ALTER TABLE meeting_attendance ADD COLUMN joined_call_at TEXT;
ALTER TABLE meeting_attendance ADD COLUMN left_call_at TEXT;
ALTER TABLE meeting_attendance ADD COLUMN call_source TEXT;  -- zoom, jitsi
""",
        postgres="""
ALTER TABLE meeting_attendance ADD COLUMN joined_call_at TEXT;
ALTER TABLE meeting_attendance ADD COLUMN left_call_at TEXT;
ALTER TABLE meeting_attendance ADD COLUMN call_source TEXT;
""",
    ),
    Migration(
        10,
        sqlite="""
-- Was: Zoom's tables (zoom_accounts, zoom_link_codes, zoom_meeting_links,
-- zoom_meeting_instances, zoom_events). Since issue 15 they are the Zoom platform's own
-- migration 1 (zoom_app/migrations.py, recorded in platform_schema_version), so a service
-- without Zoom has no Zoom tables. Databases that ran this before keep them, and Zoom's
-- migration 1 (CREATE TABLE IF NOT EXISTS) adopts them. The number stays, as recorded in
-- schema_version of every database made since.
""",
        postgres="""
-- Empty, as on SQLite (Zoom's tables are the Zoom platform's own migrations).
""",
    ),
    Migration(
        11,
        sqlite="""
-- Was: Jitsi's table (jitsi_rooms), now the Jitsi platform's migration 1
-- (jitsi_app/migrations.py); as for 10, existing databases keep it and it is adopted.
""",
        postgres="""
-- Empty, as on SQLite (Jitsi's table is the Jitsi platform's own migrations).
""",
    ),
    Migration(
        12,
        sqlite="""
-- Signing back in (sidecar/web/signin.py): each browser session remembers the device it was
-- made on ("Chrome on Windows"), for the profile's list of devices.
ALTER TABLE access_tokens ADD COLUMN device TEXT NOT NULL DEFAULT '';
-- A link sent by email opens a page with a button instead of signing in on a GET, so a mail
-- scanner that fetches every link does not use it up.
ALTER TABLE signin_links ADD COLUMN needs_click INTEGER NOT NULL DEFAULT 0;
-- "Email me a sign-in link" looks people up by address, as typed in any case.
CREATE INDEX people_email ON people(email COLLATE NOCASE);
""",
        postgres="""
ALTER TABLE access_tokens ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE signin_links ADD COLUMN needs_click INTEGER NOT NULL DEFAULT 0;
-- SQLite's COLLATE NOCASE: queries compare lower(email) = lower(?).
CREATE INDEX people_email ON people(lower(email));
""",
    ),
    Migration(
        13,
        sqlite="""
-- Fixing meetings (sidecar/cancellation.py, sidecar/meeting_lifecycle.py): a meeting can be
-- cancelled (the CHECK on status gains 'cancelled', so the table is rebuilt; the runner turns
-- foreign keys off around migrations), belongs to the series it was planned in (a new series
-- replaces the upcoming meetings of the old one), and can be reopened for a while after it
-- ended; each end after a reopen sends the summary again, marked corrected (summaries.revision
-- counts the ends that wrote it).
CREATE TABLE meetings_rebuilt (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    scheduled_start TEXT NOT NULL,
    scheduled_end TEXT NOT NULL,
    platform TEXT NOT NULL CHECK (platform IN ('zoom', 'jitsi', 'link')),
    join_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'live', 'ended', 'cancelled')),
    started_at TEXT,
    ended_at TEXT,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL,
    agenda_sent_at TEXT,
    agenda_sent_by TEXT REFERENCES people(id),
    sequence INTEGER NOT NULL DEFAULT 0,
    ended_by TEXT,
    cancelled_at TEXT,
    cancelled_by TEXT REFERENCES people(id),
    series_id TEXT,
    reopened_at TEXT,
    reopened_by TEXT REFERENCES people(id),
    reopen_count INTEGER NOT NULL DEFAULT 0,
    CHECK (scheduled_end > scheduled_start)
);
INSERT INTO meetings_rebuilt (id, mentorship_id, title, scheduled_start, scheduled_end, platform,
    join_url, status, started_at, ended_at, created_by, created_at, updated_by, updated_at,
    agenda_sent_at, agenda_sent_by, sequence, ended_by)
SELECT id, mentorship_id, title, scheduled_start, scheduled_end, platform, join_url, status,
    started_at, ended_at, created_by, created_at, updated_by, updated_at, agenda_sent_at,
    agenda_sent_by, sequence, ended_by FROM meetings;
DROP TABLE meetings;
ALTER TABLE meetings_rebuilt RENAME TO meetings;
CREATE INDEX meetings_mentorship ON meetings(mentorship_id, scheduled_start);
CREATE INDEX meetings_series ON meetings(series_id);
ALTER TABLE summaries ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
""",
        postgres="""
-- No rebuild on PostgreSQL: the CHECK on status is replaced and the columns added in place.
ALTER TABLE meetings DROP CONSTRAINT meetings_status_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_status_check
    CHECK (status IN ('scheduled', 'live', 'ended', 'cancelled'));
ALTER TABLE meetings
    ADD COLUMN cancelled_at TEXT,
    ADD COLUMN cancelled_by TEXT REFERENCES people(id),
    ADD COLUMN series_id TEXT,
    ADD COLUMN reopened_at TEXT,
    ADD COLUMN reopened_by TEXT REFERENCES people(id),
    ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX meetings_series ON meetings(series_id);
ALTER TABLE summaries ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
""",
    ),
    Migration(
        14,
        sqlite="""
-- Erasing a mentorship waits a grace period (MENTOR_SIDECAR_ERASE_GRACE_DAYS) in which either
-- person can undo; the erasure worker claims a due row once (claimed_at) before erasing.
CREATE TABLE mentorship_erasures (
    mentorship_id TEXT PRIMARY KEY REFERENCES mentorships(id) ON DELETE CASCADE,
    requested_by TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    erase_after TEXT NOT NULL,
    -- 'mentorship': either person may undo; 'profile': its requester is leaving, only they may
    reason TEXT NOT NULL CHECK (reason IN ('mentorship', 'profile')),
    claimed_at TEXT
);
CREATE INDEX mentorship_erasures_due ON mentorship_erasures(erase_after);
-- "Erase my profile": the person goes after the same grace period, with all their mentorships.
CREATE TABLE profile_erasures (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    erase_after TEXT NOT NULL,
    claimed_at TEXT
);
-- The day-before reminder of a next step, once per due date (a new date gets a new reminder).
CREATE TABLE step_reminders (
    action_item_id TEXT NOT NULL REFERENCES action_items(id) ON DELETE CASCADE,
    due_date TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    outcome TEXT CHECK (outcome IN ('sent', 'skipped')),
    PRIMARY KEY (action_item_id, due_date)
);
""",
        postgres="""
CREATE TABLE mentorship_erasures (
    mentorship_id TEXT PRIMARY KEY REFERENCES mentorships(id) ON DELETE CASCADE,
    requested_by TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    erase_after TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('mentorship', 'profile')),
    claimed_at TEXT
);
CREATE INDEX mentorship_erasures_due ON mentorship_erasures(erase_after);
CREATE TABLE profile_erasures (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    erase_after TEXT NOT NULL,
    claimed_at TEXT
);
CREATE TABLE step_reminders (
    action_item_id TEXT NOT NULL REFERENCES action_items(id) ON DELETE CASCADE,
    due_date TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    outcome TEXT CHECK (outcome IN ('sent', 'skipped')),
    PRIMARY KEY (action_item_id, due_date)
);
""",
    ),
    Migration(15, sqlite=_MIGRATION_15, postgres=_MIGRATION_15),
    Migration(
        16,
        sqlite="""
-- Issue 15: a platform plugin brings its own name, so meetings.platform loses its closed CHECK
-- list (the domain checks the name against the enabled platforms and 'link'). SQLite changes a
-- CHECK by rebuilding the table, as in 13 (the runner turns foreign keys off around it).
CREATE TABLE meetings_rebuilt (
    id TEXT PRIMARY KEY,
    mentorship_id TEXT NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    scheduled_start TEXT NOT NULL,
    scheduled_end TEXT NOT NULL,
    platform TEXT NOT NULL CHECK (platform <> ''),
    join_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'live', 'ended', 'cancelled')),
    started_at TEXT,
    ended_at TEXT,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES people(id),
    updated_at TEXT NOT NULL,
    agenda_sent_at TEXT,
    agenda_sent_by TEXT REFERENCES people(id),
    sequence INTEGER NOT NULL DEFAULT 0,
    ended_by TEXT,
    cancelled_at TEXT,
    cancelled_by TEXT REFERENCES people(id),
    series_id TEXT,
    reopened_at TEXT,
    reopened_by TEXT REFERENCES people(id),
    reopen_count INTEGER NOT NULL DEFAULT 0,
    CHECK (scheduled_end > scheduled_start)
);
INSERT INTO meetings_rebuilt (id, mentorship_id, title, scheduled_start, scheduled_end, platform,
    join_url, status, started_at, ended_at, created_by, created_at, updated_by, updated_at,
    agenda_sent_at, agenda_sent_by, sequence, ended_by, cancelled_at, cancelled_by, series_id,
    reopened_at, reopened_by, reopen_count)
SELECT id, mentorship_id, title, scheduled_start, scheduled_end, platform, join_url, status,
    started_at, ended_at, created_by, created_at, updated_by, updated_at, agenda_sent_at,
    agenda_sent_by, sequence, ended_by, cancelled_at, cancelled_by, series_id, reopened_at,
    reopened_by, reopen_count FROM meetings;
DROP TABLE meetings;
ALTER TABLE meetings_rebuilt RENAME TO meetings;
CREATE INDEX meetings_mentorship ON meetings(mentorship_id, scheduled_start);
CREATE INDEX meetings_series ON meetings(series_id);
""",
        postgres="""
-- Issue 15: any platform's name (the domain checks it against the enabled platforms and 'link').
ALTER TABLE meetings DROP CONSTRAINT meetings_platform_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_platform_check CHECK (platform <> '');
""",
    ),
    Migration(17, sqlite=_MIGRATION_17, postgres=_MIGRATION_17),
    Migration(
        18,
        sqlite="""
-- Looking people up by address compares lower(email) = lower(?) on both backends; SQLite uses
-- an index only for the same expression, not for migration 12's COLLATE NOCASE one.
DROP INDEX people_email;
CREATE INDEX people_email ON people(lower(email));
""",
        postgres="""
-- PostgreSQL's index (migration 12) is on lower(email) already.
""",
    ),
    Migration(
        19,
        sqlite="""
-- Live notes' newest updates, in arrival order, before they are filed into note_updates
-- (sidecar/db/notes/sqlite.py). Without an index a commit appends to this table's last page
-- only, instead of dirtying one leaf of note_updates' (meeting_id, id) index per meeting;
-- filing a few thousand rows at a time writes each meeting's leaf once. A meeting's notes are
-- its rows of note_updates, then its rows here, each in id order.
CREATE TABLE note_updates_recent (
    id INTEGER PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    data BLOB NOT NULL,
    created_by TEXT REFERENCES people(id),
    created_at TEXT NOT NULL
);
""",
        postgres="""
-- The same table, so that `migrate-data` copies an embedded install's newest updates too; the
-- PostgreSQL store never writes it and files what it holds into note_updates when it starts.
CREATE TABLE note_updates_recent (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    data BYTEA NOT NULL,
    created_by TEXT REFERENCES people(id),
    created_at TEXT NOT NULL
);
""",
    ),
]


def has_statements(sql: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in sql.splitlines())


SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"
)


async def apply_migrations(
    conn: aiosqlite.Connection, migrations: Sequence[Migration] | None = None
) -> list[int]:
    """SQLite: apply every migration newer than the recorded version; returns those applied."""
    await conn.execute(SCHEMA_VERSION)
    async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    applied = []
    # Off while migrating (it cannot change inside a transaction): rebuilding a table others
    # reference (SQLite's way to change a CHECK) must not cascade its DROP into their rows.
    await conn.execute("PRAGMA foreign_keys=OFF")
    try:
        for migration in MIGRATIONS if migrations is None else migrations:
            if migration.version <= current:
                continue
            # executescript runs the BEGIN we give it; the COMMIT follows the foreign key check,
            # so a migration lands whole or not at all. Its row goes in first, under the write
            # lock: a process that started at the same time and applied it already makes that
            # INSERT fail, and this one moves on.
            try:
                version = int(migration.version)
                await conn.executescript(
                    f"BEGIN IMMEDIATE;\nINSERT INTO schema_version VALUES ({version},"
                    f" '{now_iso()}');\n{migration.sqlite}\n"
                )
            except sqlite3.IntegrityError as exc:
                if "schema_version" not in str(exc):
                    raise
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                continue
            async with conn.execute("PRAGMA foreign_key_check") as cur:
                broken = list(await cur.fetchall())
            if broken:
                await conn.execute("ROLLBACK")
                raise RuntimeError(
                    f"migration {migration.version} breaks foreign keys: {broken[:5]}"
                )
            await conn.execute("COMMIT")
            applied.append(migration.version)
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise
    finally:
        await conn.execute("PRAGMA foreign_keys=ON")
    return applied


async def apply_postgres_migrations(
    conn: asyncpg.Connection, migrations: Sequence[Migration] | None = None
) -> list[int]:
    """PostgreSQL: the same, on a connection the caller holds the migration lock on."""
    await conn.execute(SCHEMA_VERSION)
    current = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
    applied = []
    for migration in MIGRATIONS if migrations is None else migrations:
        if migration.version <= current:
            continue
        # DDL is transactional on PostgreSQL: a failed step leaves nothing behind.
        async with conn.transaction():
            if has_statements(migration.postgres):  # asyncpg fails on a query of comments only
                await conn.execute(migration.postgres)
            await conn.execute(
                "INSERT INTO schema_version VALUES ($1, $2)", migration.version, now_iso()
            )
        applied.append(migration.version)
    return applied
