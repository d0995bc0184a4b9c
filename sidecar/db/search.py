"""Searching a pair's meetings: the index of ended meetings (meeting_search: FTS5 on SQLite, a
tsvector with a GIN index on PostgreSQL), and the notes of meetings not ended yet (live or
upcoming), which are matched on the fly by a private in-memory SQLite.

What people type is never query syntax: it is cut into words the way the index cuts text
(letters and digits; everything else separates), and each word is quoted and made a prefix, all
of them required. So "rol" finds "role-play", and `NEAR(`, `"`, `*`, `title:`, `!`, `&`, `|`, `:`
or `(` are just characters on both backends.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sidecar.db.database import Database
from sidecar.domain.models import Meeting

MAX_WORDS = 16  # a longer query narrows nothing further and costs more
LIMIT = 50
TOKENIZER = "unicode61 remove_diacritics 2"  # the same as meeting_search's (migration 6)
_WORD = re.compile(r"[^\W_]+")  # unicode61 token characters: letters and numbers

# A match in the title counts most, then in the summary, then in the notes. FTS5's bm25 takes
# one weight per column (meeting_id, mentorship_id, title, summary, notes); on PostgreSQL the
# document's title is weighted A, summary B, notes C, which ts_rank's default weights count
# 1.0, 0.4 and 0.2: the same proportions. ts_rank's normalisation 1 (divide by 1 + the log of
# the document's length) is bm25's length normalisation, roughly: a word in a short meeting
# counts for more than the same word lost in long notes.
_BM25 = "bm25(meeting_search, 0, 0, 10, 4, 2)"

# The snippet: about 12 words around the matches, matches in **bold**, '…' where text was cut.
SNIPPET_WORDS = 12
# ts_headline marks matches with characters no note holds (private use), so the marks can be
# counted (to pick the column with most matches) and told from ** written in the notes.
_START, _STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f'StartSel="{_START}", StopSel="{_STOP}", MaxWords={SNIPPET_WORDS}, MinWords=5,'
    " ShortWord=0, MaxFragments=1"
)

# PostgreSQL's parser reads `ana@example.org`, `x.org/page`, `2026-12-01` or `2.5` as one token
# (an email, a host, a signed number...) where FTS5 sees words. meeting_search's document is
# made of the text with every run of punctuation replaced by a space (migration 6, PostgreSQL
# side), so the same words are found; headlines are made of the text with the punctuation set
# apart by a control character the parser takes for a space (removed after), which cuts the
# same words and shows the text as it was.
PG_PUNCTUATION = "([[:punct:]]+)"
_APART = "\x01"

# The best LIMIT meetings first (the GIN index finds them, ts_rank orders them); then, for those
# only, a headline of each column, looking for any of the words (as FTS5's snippet does within a
# column): the column with most matches gives the snippet. The headline without its marks is
# compared with the column's text, to put '…' where it was cut.
_PG_SEARCH = """
WITH q AS (
    SELECT to_tsquery('sidecar_search', :all_words) AS all_words,
        to_tsquery('sidecar_search', :any_word) AS any_word
), hit AS (
    SELECT s.meeting_id, mt.title, mt.scheduled_start, s.title AS indexed_title, s.summary,
        s.notes, ts_rank(s.document, q.all_words, 1) AS score
    FROM meeting_search s JOIN meetings mt ON mt.id = s.meeting_id
        JOIN mentorships m ON m.id = mt.mentorship_id CROSS JOIN q
    WHERE s.document @@ q.all_words AND s.mentorship_id = :mentorship_id
        AND (m.mentor_id = :viewer OR m.mentee_id = :viewer)
    ORDER BY score DESC, s.meeting_id LIMIT :limit
)
SELECT hit.meeting_id, hit.title, hit.scheduled_start, part.n, h.headline,
    starts_with(btrim(part.body, :blank), h.plain) AS at_start,
    right(btrim(part.body, :blank), length(h.plain)) = h.plain AS at_end
FROM hit CROSS JOIN q
CROSS JOIN LATERAL (VALUES (0, hit.indexed_title), (1, hit.summary), (2, hit.notes))
    AS part(n, body)
CROSS JOIN LATERAL (
    SELECT replace(ts_headline('sidecar_search',
        regexp_replace(part.body, :punctuation, :set_apart, 'g'), q.any_word, :options),
        :apart, '') AS headline
) AS marked
CROSS JOIN LATERAL (
    SELECT marked.headline,
        btrim(replace(replace(marked.headline, :start, ''), :stop, ''), :blank) AS plain
) AS h
ORDER BY hit.score DESC, hit.meeting_id, part.n
"""

# A PostgreSQL tsvector holds at most 1 MiB, and text can take up to about three times its size
# in one (many different short words): PostgreSQL indexes the first 192 KiB of a meeting's notes
# and 64 KiB of its summary (far more than notes hold in practice), so that ending a meeting
# with a pasted log in its notes never fails. SQLite's FTS5 has no such limit.
PG_INDEXED_BYTES = {"title": 8 * 1024, "summary": 64 * 1024, "notes": 192 * 1024}


def indexable_on_postgres(text: str, column: str) -> str:
    """`text` as PostgreSQL can index it: without NUL characters (a PostgreSQL text refuses
    them), cut to the column's PG_INDEXED_BYTES (never inside a character)."""
    text = text.replace("\x00", "")
    data, limit = text.encode(), PG_INDEXED_BYTES[column]
    return text if len(data) <= limit else data[:limit].decode(errors="ignore")


@dataclass(frozen=True)
class MatchExpression:
    """What a person typed, cut into words (at most MAX_WORDS); a meeting matches when every
    word is the beginning of one of its words."""

    words: tuple[str, ...]

    def fts5(self) -> str:
        """`rol play` -> `"rol"* "play"*`: each word quoted, as a prefix, all required."""
        return " ".join('"' + word.replace('"', '""') + '"*' for word in self.words)

    def tsquery(self, join: str = "&") -> str:
        """`rol play` -> `'rol':* & 'play':*`, for to_tsquery (which removes the diacritics
        and lowercases, like the document's configuration); `join="|"` for any word."""
        return f" {join} ".join(_lexeme(word) + ":*" for word in self.words)


def _lexeme(word: str) -> str:
    # Words never hold a quote or a backslash (they are letters and digits); escaped anyway.
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def match_expression(text: str) -> MatchExpression | None:
    """The words to look for in `text`; None when there is no word (only punctuation)."""
    words = _WORD.findall(text)[:MAX_WORDS]
    if not words:
        return None
    return MatchExpression(tuple(words))


@dataclass(frozen=True)
class SearchRow:
    meeting_id: str
    title: str
    scheduled_start: datetime | str
    snippet: str


async def search_ended(
    db: Database, mentorship_id: str, expression: MatchExpression, *, viewer: str
) -> list[SearchRow]:
    """Ended meetings of the pair whose title, summary or notes match, best first; nothing
    unless the viewer is one of the pair."""
    if db.dialect == "postgresql":  # a tsvector column and its GIN index, not FTS5
        return await _search_ended_postgres(db, mentorship_id, expression, viewer)
    rows = await db.fetch_all(
        "SELECT s.meeting_id, mt.title, mt.scheduled_start,"
        f" snippet(meeting_search, -1, '**', '**', '…', {SNIPPET_WORDS}) AS snippet"
        " FROM meeting_search s JOIN meetings mt ON mt.id = s.meeting_id"
        " JOIN mentorships m ON m.id = mt.mentorship_id"
        " WHERE meeting_search MATCH :words AND s.mentorship_id = :mentorship_id"
        " AND (m.mentor_id = :viewer OR m.mentee_id = :viewer)"
        f" ORDER BY {_BM25} LIMIT :limit",
        {
            "words": expression.fts5(),
            "mentorship_id": mentorship_id,
            "viewer": viewer,
            "limit": LIMIT,
        },
    )
    return [SearchRow(**row) for row in rows]


async def _search_ended_postgres(
    db: Database, mentorship_id: str, expression: MatchExpression, viewer: str
) -> list[SearchRow]:
    rows = await db.fetch_all(
        _PG_SEARCH,
        {
            "all_words": expression.tsquery("&"),
            "any_word": expression.tsquery("|"),
            "mentorship_id": mentorship_id,
            "viewer": viewer,
            "limit": LIMIT,
            "punctuation": PG_PUNCTUATION,
            "set_apart": f"{_APART}\\1{_APART}",
            "apart": _APART,
            "options": _HEADLINE_OPTIONS,
            "start": _START,
            "stop": _STOP,
            "blank": " \t\r\n",
        },
    )
    found: dict[str, SearchRow] = {}
    best: dict[str, tuple[int, int]] = {}
    for row in rows:
        rank = _headline_rank(row["headline"])
        if row["meeting_id"] in found and rank <= best[row["meeting_id"]]:
            continue  # an earlier column (title, then summary) wins a tie, as in FTS5
        best[row["meeting_id"]] = rank
        found[row["meeting_id"]] = SearchRow(
            meeting_id=row["meeting_id"],
            title=row["title"],
            scheduled_start=row["scheduled_start"],
            snippet=_snippet(row),
        )
    return list(found.values())


def _headline_rank(headline: str) -> tuple[int, int]:
    """(different words marked, marks): how well a column's headline shows the matches."""
    marked = re.findall(f"{_START}(.*?){_STOP}", headline, flags=re.DOTALL)
    return len({word.casefold() for word in marked}), len(marked)


def _snippet(row: dict[str, Any]) -> str:
    text = str(row["headline"]).strip(" \t\r\n").replace(_START, "**").replace(_STOP, "**")
    if not text:
        return text
    return ("" if row["at_start"] else "…") + text + ("" if row["at_end"] else "…")


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
            f"SELECT meeting_id, snippet(unended, -1, '**', '**', '…', {SNIPPET_WORDS})"
            " FROM unended WHERE unended MATCH ? ORDER BY bm25(unended, 0, 10, 2) LIMIT ?",
            (expression, LIMIT),
        ).fetchall()
        return {meeting_id: snippet for meeting_id, snippet in rows}
    finally:
        connection.close()


async def search_unended(
    documents: list[tuple[Meeting, str]], expression: MatchExpression
) -> list[SearchRow]:
    """The meetings (with their current notes) that match, best first; off the event loop.

    This is a text matcher, not the service's database: the notes of a meeting not ended are
    not in meeting_search yet, so they are put in a throwaway in-memory SQLite FTS5 table for
    this one search, on either backend (PostgreSQL included). It cuts words, folds diacritics
    and matches prefixes exactly as meeting_search does on SQLite."""
    if not documents:
        return []
    by_id = {meeting.id: meeting for meeting, _ in documents}
    found = await asyncio.to_thread(
        _match_in_memory,
        [(meeting.id, meeting.title, notes) for meeting, notes in documents],
        expression.fts5(),
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
