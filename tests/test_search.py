"""Search of a pair's meetings, the same on both backends: the ranking (title above summary above
notes), words as prefixes, diacritics folded, typed punctuation never query syntax, punctuation in
the text separating words, snippets, and one pair never seeing another's meetings. Each test runs
on SQLite (FTS5) and on PostgreSQL (tsvector and GIN), through the real HTTP endpoint."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.db.search import (
    PG_INDEXED_BYTES,
    MatchExpression,
    indexable_on_postgres,
    match_expression,
)
from sidecar.keys import REPOS
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from tests.conftest import Pair, add_meeting, make_pair
from tests.platform_settings import TESTED
from tests.smtp_server import SmtpServer
from tests.test_panel_details import type_notes


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test on both backends, whatever MENTOR_SIDECAR_TEST_DATABASE says: "" is the SQLite
    file in the data folder; else a fresh PostgreSQL database of the test's own."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def server(database_url: str, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[TestServer]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        platforms=TESTED,
        outbox_poll_seconds=0.1,
        **smtp.settings(),
    )
    server = TestServer(create_app(settings))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def pair(server: TestServer) -> Pair:
    # Its own meeting ("Check-in", tomorrow) is searched too, by title: no query here starts
    # a word of it.
    return await make_pair(server.app, "a")


class Search:
    def __init__(self, server: TestServer, pair: Pair) -> None:
        self.server, self.pair = server, pair
        self.days_ago = 1

    async def ended(self, title: str, summary: str = "", notes: str = "") -> str:
        """A meeting of the pair that ended, indexed with exactly these words."""
        app, pair = self.server.app, self.pair
        start = datetime.now(UTC) - timedelta(days=self.days_ago)
        self.days_ago += 1
        meeting = await add_meeting(app, pair, start, title=title)
        await app[REPOS].meetings.update(meeting.id, {"status": "ended"}, viewer=pair.mentor_id)
        await app[REPOS].summaries.index_for_search(
            meeting.id, pair.mentorship_id, title=title, summary=summary, notes=notes
        )
        return meeting.id

    async def hits(self, q: str, *, who: Pair | None = None) -> list[dict[str, Any]]:
        who = who or self.pair
        url = f"http://127.0.0.1:{self.server.port}/api/v1/mentorships/{who.mentorship_id}/search"
        async with aiohttp.ClientSession(headers=who.auth("mentor")) as session:
            response = await session.get(url, params={"q": q})
            assert response.status == 200, (q, await response.text())
            found: list[dict[str, Any]] = (await response.json())["hits"]
            return found

    async def ids(self, q: str) -> list[str]:
        return [hit["meeting_id"] for hit in await self.hits(q)]


@pytest.fixture
def search(server: TestServer, pair: Pair) -> Search:
    return Search(server, pair)


def test_typed_words_become_quoted_prefixes() -> None:
    def words(text: str) -> MatchExpression:
        found = match_expression(text)
        assert found is not None, text
        return found

    assert words("rol").fts5() == '"rol"*'
    assert words("rol").tsquery() == "'rol':*"
    assert words("role-play NEAR(").fts5() == '"role"* "play"* "NEAR"*'
    assert words("role-play NEAR(").tsquery() == "'role':* & 'play':* & 'NEAR':*"
    assert words("a|b").tsquery("|") == "'a':* | 'b':*"
    assert words('"unbalanced title:x OR *').fts5() == '"unbalanced"* "title"* "x"* "OR"*'
    assert words("it's !café & (x:y)").words == ("it", "s", "café", "x", "y")
    assert words("São_Paulo").words == ("São", "Paulo")
    assert len(words(" ".join(f"w{i}" for i in range(40))).words) == 16
    for nothing in ("*** -- ()", "!&|:()", "'\"", "_", ""):
        assert match_expression(nothing) is None, nothing


def test_postgresql_indexes_text_without_nul_and_within_its_limit() -> None:
    assert indexable_on_postgres("a\x00b", "notes") == "ab"
    limit = PG_INDEXED_BYTES["notes"]
    assert indexable_on_postgres("x" * limit, "notes") == "x" * limit
    cut = indexable_on_postgres("é" * limit, "notes")  # two bytes each: cut between two
    assert cut == "é" * (limit // 2)
    cut = indexable_on_postgres("x" + "é" * limit, "notes")  # never inside one
    assert cut == "x" + "é" * ((limit - 1) // 2)


async def test_a_match_in_the_title_counts_most_then_summary_then_notes(search: Search) -> None:
    filler = "we went through the week and what comes next"
    in_notes = await search.ended("Weekly", f"Weekly\n{filler}", f"{filler}; the budget too")
    in_title = await search.ended("Budget review", f"Budget review\n{filler}", filler)
    in_summary = await search.ended("Monthly", f"Monthly\nbudget: {filler}", filler)
    assert await search.ids("budget") == [in_title, in_summary, in_notes]
    assert await search.ids("bud") == [in_title, in_summary, in_notes]


async def test_more_mentions_count_for_more(search: Search) -> None:
    once = await search.ended("Weekly", "Weekly", "the launch plan, then other things entirely")
    thrice = await search.ended("Monthly", "Monthly", "the launch plan, the launch, launch again")
    assert await search.ids("launch") == [thrice, once]


async def test_each_word_matches_as_the_start_of_a_word(search: Search) -> None:
    role_play = await search.ended("Practice", "", "We tried a role-play of the critique.")
    men = await search.ended("Talk", "", "Some men said hello.")
    mentees = await search.ended("Group", "", "The mentees presented.")
    assert await search.ids("rol") == [role_play]
    assert await search.ids("play") == [role_play], "the part after a hyphen is a word too"
    assert await search.ids("ole") == [], "inside a word is not a start"
    assert await search.ids("role-pl") == [role_play]
    assert await search.ids("rol crit") == [role_play]
    assert await search.ids("rol zzz") == [], "every word is required"
    assert await search.ids("mentee") == [mentees], "a longer word does not find 'men'"
    assert set(await search.ids("men")) == {men, mentees}
    assert await search.ids("mentees") == [mentees]
    assert await search.ids("menteess") == []


async def test_diacritics_are_folded_both_ways(search: Search) -> None:
    accented = await search.ended("Café chat", "", "Near São Paulo, naïve Überraschungen.")
    plain = await search.ended("Cafe walk", "", "Sao Paulo again, naive surprises.")
    assert set(await search.ids("cafe")) == {accented, plain}
    assert set(await search.ids("CAFÉ")) == {accented, plain}
    assert set(await search.ids("sao paulo")) == {accented, plain}
    assert set(await search.ids("naïv")) == {accented, plain}
    assert await search.ids("uberrasch") == [accented]
    assert await search.ids("ÜBERRASCHUNGEN") == [accented]
    (hit,) = [h for h in await search.hits("cafe chat")]
    assert "**Café**" in hit["snippet"] and "**chat**" in hit["snippet"]


async def test_typed_punctuation_is_never_query_syntax(search: Search) -> None:
    budget = await search.ended("Budget review", "", "Money: the budget, the plan.")
    await search.ended("Weekly", "", "Nothing about money.")
    for same in (
        "!budget",
        "budget:*",
        "(budget",
        "budget)",
        "'budget'",
        '"budget"',
        "budget*",
        "-budget",
        "budget\\",
        "&budget&",
        "|budget|",
        "<->budget",
        "budget !money",
        "budget\u0000",  # a NUL: PostgreSQL's text refuses it, but it is only a separator here
    ):
        assert await search.ids(same) == [budget], same
    for nothing in ("budget | zzz", "budget OR zzz", "NEAR(budget money)", "title:budget"):
        assert await search.ids(nothing) == [], nothing
    for no_word in ("!", "&", "|", ":", "(", ")", "'", '"', "*", "!&|:()", "<->", "\\", "''"):
        assert await search.hits(no_word) == [], no_word


async def test_punctuation_in_the_text_separates_words(search: Search) -> None:
    meeting = await search.ended(
        "Follow-up", "", "Write to ana@example.org by 2026-12-01; see x.org/page_two, v2.5 notes."
    )
    for word in ("ana", "example", "org", "2026", "12", "01", "page", "two", "v2", "5", "up"):
        assert await search.ids(word) == [meeting], word
    assert await search.ids("example org") == [meeting]


async def test_the_snippet_marks_the_words_and_shows_where_it_was_cut(search: Search) -> None:
    short = await search.ended("Weekly", "Weekly", "café au lait")
    before = " ".join(f"before{i}" for i in range(30))
    after = " ".join(f"after{i}" for i in range(30))
    long = await search.ended("Monthly", "Monthly", f"{before} the budget talk {after}")
    (hit,) = await search.hits("caf")
    assert (hit["meeting_id"], hit["snippet"]) == (short, "**café** au lait")
    (hit,) = await search.hits("budget")
    assert hit["meeting_id"] == long
    snippet = hit["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…"), snippet
    assert "**budget**" in snippet
    assert len(snippet.split()) <= 12, snippet
    (hit,) = await search.hits("before0")
    assert hit["snippet"].startswith("**before0**") and hit["snippet"].endswith("…"), hit


async def test_a_pair_never_sees_another_pairs_meetings(
    server: TestServer, search: Search, pair: Pair
) -> None:
    other = await make_pair(server.app, "b")
    mine = await search.ended("Budget review", "", "budget")
    theirs = await Search(server, other).ended("Budget review", "", "budget")
    assert await search.ids("budget") == [mine]
    assert [h["meeting_id"] for h in await search.hits("budget", who=other)] == [theirs]
    url = f"http://127.0.0.1:{server.port}/api/v1/mentorships/{pair.mentorship_id}/search"
    async with aiohttp.ClientSession(headers=other.auth("mentor")) as session:
        assert (await session.get(url, params={"q": "budget"})).status == 404
    # The query itself checks the viewer is one of the pair, not only the endpoint.
    words = match_expression("budget")
    assert words is not None
    summaries = server.app[REPOS].summaries
    assert await summaries.search(pair.mentorship_id, words, viewer=other.mentor_id) == []
    assert await summaries.search(pair.mentorship_id, words, viewer=other.mentee_id) == []
    (found,) = await summaries.search(pair.mentorship_id, words, viewer=pair.mentee_id)
    assert found.meeting_id == mine


async def test_enormous_notes_are_indexed_and_found(search: Search) -> None:
    # About 1 MB of different words: more than one PostgreSQL tsvector holds.
    words = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(16_000)]
    meeting = await search.ended("Data dump", "", "zebra " + " ".join(words) + "\u0000end")
    assert await search.ids("zebra") == [meeting]
    assert await search.ids(words[10][:12]) == [meeting]


async def test_search_finds_prefixes_in_live_and_ended_meetings(
    server: TestServer, search: Search, pair: Pair
) -> None:
    ended = await add_meeting(server.app, pair, datetime.now(UTC) - timedelta(days=7), title="Old")
    await type_notes(server, pair, ended.id, "We tried a role-play of the critique.\n")
    await end_meeting(server.app, ended.id, source="panel", actor=pair.mentor_id)
    live = await add_meeting(server.app, pair, datetime.now(UTC) - timedelta(minutes=10))
    await server.app[REPOS].meetings.update(live.id, {"status": "live"}, viewer=pair.mentor_id)
    await type_notes(server, pair, live.id, "Next time: more role-playing, and Überraschungen.\n")

    found = await search.hits("rol")
    assert {h["meeting_id"] for h in found} == {ended.id, live.id}
    assert found[0]["meeting_id"] == live.id, "the meeting not ended yet comes first"
    assert "**role**" in found[0]["snippet"].lower() or "**role-" in found[0]["snippet"]
    assert "**role**" in found[1]["snippet"].lower()
    assert await search.ids("uberrasch") == [live.id]
    assert await search.ids("crit rol") == [ended.id]
    for odd in ('"unbalanced', "NEAR(", "title:x OR", "*", "-", "AND", "rol*)", "!rol", "rol|x"):
        await search.hits(odd)
    assert await search.hits("***") == []
