"""The summary after the call, as each person reads it (issue 14, points 4-6): real HTML in the
email beside a good plain part, every time in the reader's own zone (panel, export, search,
email), an export whose outline keeps the notes' headings in their place, and facts that agree
(when it started, for how long, who was early or late). Emails are read at a real SMTP server.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.domain.ids import iso
from sidecar.keys import DATABASE, NOTE_ROOMS, REPOS
from sidecar.meeting_lifecycle import end_idle_meetings, end_meeting
from sidecar.settings import Settings
from sidecar.summary import attendance
from sidecar.summary.markdown import outline, shift_headings
from tests.conftest import Pair, add_meeting, make_pair
from tests.notes_client import NotesClient
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty

# The due date is years ahead: "by ..." must not turn into "overdue since" as the calendar moves.
NOTES = """# Check-in

## Since last time
- [x] Book the critique room @mentee

Setext heading
--------------

Agreed: feedback in writing, the day after
- [ ] Send the draft to Ana @mentee by 2031-12-03
- [ ] Share two articles @mentor

See [the guide](https://example.org/critique?a=1&b=2) and `notes.md`.
<script>alert("x")</script> <img src=x onerror=alert(1)> ![pic](https://tracker.example/p.png)

```
# not a heading
```
"""


async def started(tmp_path: Path, smtp: SmtpServer) -> TestServer:
    settings = Settings(data_dir=tmp_path, outbox_poll_seconds=0.1, **smtp.settings())
    server = TestServer(create_app(settings))
    await server.start_server()
    return server


def minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


async def held_meeting(
    server: TestServer,
    pair: Pair,
    *,
    start: datetime,
    joins: dict[str, timedelta],
    ended_after: timedelta,
    notes: str = NOTES,
) -> str:
    """A meeting scheduled at `start` that people joined (Jitsi) at start + offset, with
    `notes` typed by the mentee through the real websocket, ending at start + `ended_after`."""
    app = server.app
    meeting = await add_meeting(app, pair, start, title="Check-in")
    for person_id, offset in joins.items():
        await attendance.joined_call(
            app[REPOS], meeting, person_id, source="jitsi", at=start + offset
        )
    if notes:
        url = f"ws://127.0.0.1:{server.port}/ws/notes/{meeting.id}?token={pair.mentee_token}"
        client = await NotesClient(url).connect()
        await asyncio.wait_for(client.synced.wait(), 30)
        await client.insert(len(str(client)), notes)
        await client.close()
        await eventually(
            lambda: _has(app, meeting.id, "Share two articles" if "Share" in notes else notes),
            what="the notes to be stored",
        )
    await app[DATABASE].execute(
        "UPDATE meetings SET ended_at = ? WHERE id = ?", (iso(start + ended_after), meeting.id)
    )
    return meeting.id


async def _has(app: web.Application, meeting_id: str, words: str) -> bool:
    return words.strip() in await app[NOTE_ROOMS].read_text(meeting_id)


async def ended_and_mailed(server: TestServer, smtp: SmtpServer, meeting_id: str) -> None:
    assert await end_meeting(server.app, meeting_id, source="jitsi", actor=None)
    await outbox_empty(server.app[DATABASE], kind="summary")


def mail_to(smtp: SmtpServer, address: str) -> EmailMessage:
    mails = [m for m in smtp.inbox.to(address) if "Summary" in str(m["Subject"])]
    assert len(mails) == 1, [str(m["Subject"]) for m in smtp.inbox.messages]
    return mails[0]


def parts(mail: EmailMessage) -> tuple[str, str]:
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r", ""), html.get_content()


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def tags_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


# --- 4. the email's HTML part is real HTML; the plain part stays good ---------------------------


async def test_the_summary_email_is_real_html_beside_a_plain_part(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    start = minute(datetime.now(UTC)) - timedelta(hours=2)
    meeting_id = await held_meeting(
        server,
        pair,
        start=start,
        joins={pair.mentor_id: timedelta(0), pair.mentee_id: timedelta(minutes=1)},
        ended_after=timedelta(minutes=50),
    )
    await ended_and_mailed(server, smtp, meeting_id)
    text, html = parts(mail_to(smtp, "mentee.a@example.org"))

    # The plain part: the Markdown record, task boxes and all.
    assert "## Next steps\n- [ ] Send the draft to Ana (a Mentee, by " in text
    assert "- [x] Book the critique room (a Mentee)" in text
    assert "\n### Check-in\n" in text and "\n#### Since last time\n" in text, "under ## Notes"

    # The HTML part: no Markdown source left, real elements, every one styled inline.
    assert "# Summary" not in html and "- [ ]" not in html and "<br>" not in html
    doc = tags_of(html)
    names = [tag for tag, _ in doc.tags]
    assert names.count("h1") == 1 and "h2" in names and "ul" in names and "li" in names
    assert "style" not in names and "script" not in names and "img" not in names
    assert "class" not in html
    assert all(attrs.get("style") for tag, attrs in doc.tags if tag in ("h1", "h2", "h3", "a"))
    assert '<meta name="color-scheme" content="light dark">' in html
    words = "".join(doc.text)
    assert "☐\xa0Send the draft to Ana" in words and "☑\xa0Book the critique room" in words
    assert "☐ Share two articles @mentor" in words, "the notes' own task lines"
    # What the pair wrote is shown, never run: tags in the notes are text.
    assert '<script>alert("x")</script>' in words and "<img src=x onerror=alert(1)>" in words
    links = [attrs["href"] for tag, attrs in doc.tags if tag == "a"]
    assert "https://example.org/critique?a=1&b=2" in links
    assert any(link and link.endswith(f"/meetings/{meeting_id}") for link in links)
    assert "https://tracker.example/p.png" in links, "an image in the notes becomes a link"
    # The notes' headings sit below the summary's sections: "# Check-in" is an h3 after the
    # "Notes" h2, the setext heading an h4; a "#" inside a code block is no heading.
    headings = [(tag, text) for tag, text in _headings(html)]
    in_notes = headings[headings.index(("h2", "Notes")) + 1 :]
    assert in_notes[-3:] == [
        ("h3", "Check-in"),
        ("h4", "Since last time"),
        ("h4", "Setext heading"),
    ]
    assert all(tag >= "h3" for tag, _ in in_notes), in_notes
    # No background is set anywhere: the client's own colours, light or dark, stay readable.
    assert "background" not in html
    await server.close()


def _headings(html: str) -> list[tuple[str, str]]:
    found = re.findall(r"<(h[1-6])[^>]*>(.*?)</\1>", html, flags=re.S)
    return [(tag, re.sub(r"<[^>]+>", "", inner)) for tag, inner in found]


# --- 6. the facts agree ---------------------------------------------------------------------


async def test_when_held_and_who_agree_with_each_other_and_the_schedule(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """The issue's meeting: scheduled at S, one person in at S-26, the other at S-13, ended at
    S+1. Both were there from S-13: it started 13 min early and lasted 14 min."""
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    start = minute(datetime.now(UTC)) - timedelta(hours=3)
    meeting_id = await held_meeting(
        server,
        pair,
        start=start,
        joins={pair.mentor_id: -timedelta(minutes=26), pair.mentee_id: -timedelta(minutes=13)},
        ended_after=timedelta(minutes=1),
    )
    await ended_and_mailed(server, smtp, meeting_id)
    for address, zone in (
        ("mentee.a@example.org", "Asia/Tokyo"),
        ("mentor.a@example.org", "Europe/Lisbon"),
    ):
        text, html = parts(mail_to(smtp, address))
        at = local_clock(zone)
        held = f"{at(start - timedelta(minutes=13))} to {at(start + timedelta(minutes=1))}, 14 min"
        assert "- When: " in text and f" at {at(start)} ({zone})" in text
        assert f"- Held: {held}; started 13 min early" in text
        assert f"a Mentor (joined {at(start - timedelta(minutes=26))}, 26 min early)" in text
        assert f"a Mentee (joined {at(start - timedelta(minutes=13))}, 13 min early)" in text
        assert f"{held}; started 13 min early" in html, "the same facts in the HTML part"
        assert "on time" not in text
    await server.close()


async def test_late_alone_and_on_time(tmp_path: Path, smtp: SmtpServer) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    base = minute(datetime.now(UTC)) - timedelta(hours=6)
    alone = await held_meeting(
        server,
        pair,
        start=base,
        joins={pair.mentor_id: timedelta(minutes=5, seconds=40)},
        ended_after=timedelta(minutes=30),
        notes="",
    )
    together = await held_meeting(
        server,
        pair,
        start=base + timedelta(hours=2),
        joins={pair.mentor_id: timedelta(seconds=50), pair.mentee_id: timedelta(seconds=10)},
        ended_after=timedelta(hours=1, minutes=5),
        notes="",
    )
    at = local_clock("Europe/Lisbon")
    async with aiohttp.ClientSession(headers=pair.auth("mentor")) as session:
        for meeting_id in (alone, together):
            assert await end_meeting(server.app, meeting_id, source="jitsi", actor=None)
        api = f"http://127.0.0.1:{server.port}/api/v1/meetings"
        first = (await (await session.get(f"{api}/{alone}/summary")).json())["body_markdown"]
        # Only one came: the meeting ran from their join; clock minutes shown are what count.
        late = base + timedelta(minutes=5)
        assert f"- Held: {at(late)} to {at(base + timedelta(minutes=30))}, 25 min;" in first
        assert (
            "started 5 min late" in first and f"a Mentor (joined {at(late)}, 5 min late)" in first
        )
        second = (await (await session.get(f"{api}/{together}/summary")).json())["body_markdown"]
        assert "1 h 5 min; started on time" in second
        assert "a Mentor (joined" in second and second.count(", on time)") == 2
    await server.close()


async def test_a_meeting_left_open_ended_when_the_last_person_left(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """Ended by the idle check long after everyone left: it lasted until the last one left."""
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    start = minute(datetime.now(UTC)) - timedelta(hours=2)
    meeting = await add_meeting(server.app, pair, start)
    db = server.app[DATABASE]
    await db.execute("UPDATE meetings SET status = 'live' WHERE id = ?", (meeting.id,))
    for person_id, came, left in ((pair.mentor_id, 1, 45), (pair.mentee_id, 2, 40)):
        await db.execute(
            "INSERT INTO meeting_attendance (meeting_id, person_id, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?)",
            (
                meeting.id,
                person_id,
                iso(start + timedelta(minutes=came)),
                iso(start + timedelta(minutes=left)),
            ),
        )
    assert await end_idle_meetings(server.app) == 1
    await outbox_empty(db, kind="summary")
    text, _ = parts(mail_to(smtp, "mentor.a@example.org"))
    at = local_clock("Europe/Lisbon")
    held = f"{at(start + timedelta(minutes=2))} to {at(start + timedelta(minutes=45))}, 43 min"
    assert f"- Held: {held}; started 2 min late" in text
    await server.close()


def local_clock(zone: str) -> Callable[[datetime], str]:
    return lambda at: f"{at.astimezone(ZoneInfo(zone)):%H:%M}"


# --- 5. every time in the reader's own zone ---------------------------------------------------


async def test_panel_export_and_search_show_each_readers_zone(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    start = minute(datetime.now(UTC)) - timedelta(hours=2)
    meeting_id = await held_meeting(
        server,
        pair,
        start=start,
        joins={pair.mentor_id: timedelta(0), pair.mentee_id: timedelta(minutes=2)},
        ended_after=timedelta(minutes=40),
    )
    await ended_and_mailed(server, smtp, meeting_id)
    base = f"http://127.0.0.1:{server.port}/api/v1"
    lisbon, tokyo = local_clock("Europe/Lisbon"), local_clock("Asia/Tokyo")
    seen = {}
    for who, mine, theirs in (
        ("mentor", "Europe/Lisbon", "Asia/Tokyo"),
        ("mentee", "Asia/Tokyo", "Europe/Lisbon"),
    ):
        async with aiohttp.ClientSession(headers=pair.auth(who)) as session:
            summary = await (await session.get(f"{base}/meetings/{meeting_id}/summary")).json()
            body = summary["body_markdown"]
            when = next(line for line in body.splitlines() if line.startswith("- When: "))
            clock = lisbon if who == "mentor" else tokyo
            assert f" at {clock(start)} ({mine}); " in when, when
            assert when.endswith(f"({theirs})"), "the other person's time in brackets"
            export = await session.get(f"{base}/mentorships/{pair.mentorship_id}/export.md")
            text = await export.text()
            assert f" at {clock(start)} ({mine})" in text, "the export is in the reader's zone"
            seen[who] = body
            # Search results carry no one's clock: the index holds the summary's words only.
            url = f"{base}/mentorships/{pair.mentorship_id}/search"
            for word in ("Tokyo", "Lisbon"):
                hits = (await (await session.get(url, params={"q": word})).json())["hits"]
                assert hits == [], (word, hits)
            hits = (await (await session.get(url, params={"q": "feedback"})).json())["hits"]
            assert [h["meeting_id"] for h in hits] == [meeting_id]
    assert seen["mentor"] != seen["mentee"]
    mail = parts(mail_to(smtp, "mentor.a@example.org"))[0]
    assert f" at {lisbon(start)} (Europe/Lisbon); " in mail
    await server.close()


async def test_the_export_keeps_the_notes_headings_under_their_meeting(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    pair = await make_pair(server.app, "a")
    start = minute(datetime.now(UTC)) - timedelta(hours=2)
    meeting_id = await held_meeting(
        server, pair, start=start, joins={}, ended_after=timedelta(minutes=40)
    )
    await ended_and_mailed(server, smtp, meeting_id)
    async with aiohttp.ClientSession(headers=pair.auth("mentee")) as session:
        url = f"http://127.0.0.1:{server.port}/api/v1/mentorships/{pair.mentorship_id}/export.md"
        heads = outline(await (await session.get(url)).text())
    levels = [level for level, _ in heads]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels)), heads
    meetings = heads.index((2, "Meetings"))
    assert all(level >= 3 for level, _ in heads[meetings + 1 :]), "nothing escapes a meeting"
    mine = next(
        i for i, (lv, t) in enumerate(heads) if lv == 3 and t.startswith("Summary: Check-in, ")
    )
    sections = [t for lv, t in heads[mine + 1 :] if lv == 4]
    assert "Agreements" in sections and sections[-1] == "Notes"
    notes = heads.index((4, "Notes"), mine)
    assert heads[notes + 1 :][-3:] == [
        (5, "Check-in"),
        (6, "Since last time"),
        (6, "Setext heading"),
    ]
    assert "not a heading" not in [t for _, t in heads]
    await server.close()


async def test_legacy_zone_names_are_accepted_and_stored_canonical(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    server = await started(tmp_path, smtp)
    base = f"http://127.0.0.1:{server.port}/api/v1"
    me = {
        "name": "Arjun",
        "email": "arjun@example.org",
        "timezone": "Asia/Calcutta",
        "locale": "en-IN",
    }
    async with aiohttp.ClientSession() as session:
        made = await session.post(f"{base}/mentorships", json={"role": "mentee", "me": me})
        assert made.status == 201, await made.text()
        token = (await made.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        person = (await (await session.get(f"{base}/me", headers=headers)).json())["person"]
        assert person["timezone"] == "Asia/Kolkata"
        changed = await session.patch(
            f"{base}/me", headers=headers, json={"timezone": "Europe/Kiev"}
        )
        assert changed.status == 200, await changed.text()
        person = (await (await session.get(f"{base}/me", headers=headers)).json())["person"]
        assert person["timezone"] == "Europe/Kyiv"
        bad = await session.patch(f"{base}/me", headers=headers, json={"timezone": "Mars/Olympus"})
        assert bad.status == 422 and (await bad.json())["error"]["fields"][0]["loc"] == "timezone"
    await server.close()


def test_the_rename_tables_of_server_and_panel_agree() -> None:
    from sidecar.timezones import RENAMED

    source = (Path(__file__).parents[1] / "web/src/lib/zones.js").read_text()
    block = source[source.index("RENAMED = {") : source.index("};", source.index("RENAMED = {"))]
    table = dict(re.findall(r'"([^"]+)":\s*"([^"]+)"', block))
    assert table == RENAMED
    for legacy, canonical in RENAMED.items():
        ZoneInfo(legacy), ZoneInfo(canonical)
        assert canonical not in RENAMED, f"{legacy} -> {canonical} is itself renamed"


def test_shift_headings_moves_headings_only() -> None:
    notes = (
        "# Top\n"
        "Under\n"
        "=====\n"
        "> ## Quoted\n"
        "- ### In a list\n"
        "```\n"
        "# a comment in code\n"
        "```\n"
        "    # indented code\n"
        "#hashtag is no heading\n"
        "###### Deepest\n"
    )
    shifted = shift_headings(notes, 2)
    assert shifted.splitlines() == [
        "### Top",
        "### Under",
        "> #### Quoted",
        "- ##### In a list",
        "```",
        "# a comment in code",
        "```",
        "    # indented code",
        "#hashtag is no heading",
        "###### Deepest",
    ]
    assert outline(shifted) == [
        (3, "Top"),
        (3, "Under"),
        (4, "Quoted"),
        (5, "In a list"),
        (6, "Deepest"),
    ]
    assert shift_headings(notes, 0) == notes
