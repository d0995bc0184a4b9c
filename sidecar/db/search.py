"""Searching a pair's meetings: the FTS5 index of ended meetings, and the notes of meetings not
ended yet (live or upcoming), which are indexed on the fly in a private in-memory database.

What people type is never FTS5 syntax: it is cut into words the way the index's tokenizer cuts
text (letters and digits; everything else separates), each word is quoted and made a prefix
query, so "rol" finds "role-play" and `NEAR(`, `"`, `*` or `title:` are just characters.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from sidecar.db.connection import Database
from sidecar.domain.models import Meeting

MAX_WORDS = 16  # a longer query narrows nothing further and costs more
LIMIT = 50
TOKENIZER = "unicode61 remove_diacritics 2"  # the same as meeting_search's (migration 6)
_WORD = re.compile(r"[^\W_]+")  # unicode61 token characters: letters and numbers


@dataclass(frozen=True)
class SearchRow:
    meeting_id: str
    title: str
    scheduled_start: datetime | str
    snippet: str


def match_expression(text: str) -> str | None:
    """`rol play` -> `"rol"* "play"*` (every word, as a prefix); None when there is no word."""
    words = _WORD.findall(text)[:MAX_WORDS]
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


async def search_ended(db: Database, mentorship_id: str, expression: str) -> list[SearchRow]:
    """Ended meetings of the pair whose title, summary or notes match, best first."""
    rows = await db.fetch_all(
        "SELECT s.meeting_id, mt.title, mt.scheduled_start,"
        " snippet(meeting_search, -1, '**', '**', '…', 12) AS snippet"
        " FROM meeting_search s JOIN meetings mt ON mt.id = s.meeting_id"
        " WHERE meeting_search MATCH ? AND s.mentorship_id = ? ORDER BY rank LIMIT ?",
        (expression, mentorship_id, LIMIT),
    )
    return [SearchRow(**row) for row in rows]


def _match_in_memory(documents: list[tuple[str, str, str]], expression: str) -> dict[str, str]:
    """meeting id -> snippet for the (id, title, notes) documents that match, best first."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(
            "CREATE VIRTUAL TABLE unended USING fts5("
            f"meeting_id UNINDEXED, title, notes, tokenize = '{TOKENIZER}')"
        )
        connection.executemany("INSERT INTO unended VALUES (?, ?, ?)", documents)
        rows = connection.execute(
            "SELECT meeting_id, snippet(unended, -1, '**', '**', '…', 12) FROM unended"
            " WHERE unended MATCH ? ORDER BY rank LIMIT ?",
            (expression, LIMIT),
        ).fetchall()
        return {meeting_id: snippet for meeting_id, snippet in rows}
    finally:
        connection.close()


async def search_unended(documents: list[tuple[Meeting, str]], expression: str) -> list[SearchRow]:
    """The meetings (with their current notes) that match, best first; off the event loop."""
    if not documents:
        return []
    by_id = {meeting.id: meeting for meeting, _ in documents}
    found = await asyncio.to_thread(
        _match_in_memory,
        [(meeting.id, meeting.title, notes) for meeting, notes in documents],
        expression,
    )
    return [
        SearchRow(
            meeting_id=meeting_id,
            title=by_id[meeting_id].title,
            scheduled_start=by_id[meeting_id].scheduled_start,
            snippet=snippet,
        )
        for meeting_id, snippet in found.items()
    ]
