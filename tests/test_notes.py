"""Live notes over y-websocket, with real pycrdt clients speaking the protocol over real sockets."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.keys import NOTE_ROOMS, REPOS
from sidecar.notes import protocol
from sidecar.settings import Settings
from tests.conftest import make_pair
from tests.notes_client import NotesClient
from tests.notes_storage import snapshot_flags
from tests.waiting import eventually


@dataclass
class Service:
    server: TestServer
    seed: DemoSeed

    @property
    def app(self) -> web.Application:
        return self.server.app

    def url(self, token: str | None, meeting_id: str | None = None) -> str:
        url = f"ws://127.0.0.1:{self.server.port}/ws/notes/{meeting_id or self.seed.meeting_id}"
        return url + (f"?token={token}" if token else "")

    async def client(self, who: str = "mentor") -> NotesClient:
        token = self.seed.mentor.token if who == "mentor" else self.seed.mentee.token
        client = await NotesClient(self.url(token)).connect()
        await asyncio.wait_for(client.synced.wait(), 30)
        return client


Start = Callable[..., Awaitable[Service]]
# Every test on both paths, aiohttp's private fast path and the public one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("notes_path")


@pytest.fixture
async def start(settings: Settings) -> AsyncIterator[Start]:
    """Start the service (again) on the test's database (SQLite's file, or PostgreSQL's under
    MENTOR_SIDECAR_TEST_DATABASE=postgresql), with these settings changed."""
    servers: list[TestServer] = []

    async def start(**overrides: object) -> Service:
        server = TestServer(create_app(settings.model_copy(update=overrides)))
        await server.start_server()
        servers.append(server)
        return Service(server, await seed_demo(server.app))

    yield start
    for server in servers:
        await server.close()


async def test_two_people_typing_at_once_converge(start: Start) -> None:
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    heading = str(mentor)
    assert heading.startswith("# Weekly check-in (20") and str(mentee) == heading

    rng = random.Random(7)
    typed = {"mentor": "", "mentee": ""}

    async def type_into(client: NotesClient, who: str) -> None:
        marker = "R" if who == "mentor" else "E"
        for i in range(60):
            chunk = f"{marker}{i};"
            typed[who] += chunk
            text = str(client)
            # Mostly the same last line, the hardest case to merge; else between earlier chunks.
            boundaries = [0] + [n + 1 for n, ch in enumerate(text) if ch in ";\n"]
            position = len(text) if rng.random() < 0.7 else rng.choice(boundaries)
            await client.insert(position, chunk)
            await asyncio.sleep(rng.random() / 500)

    await asyncio.gather(type_into(mentor, "mentor"), type_into(mentee, "mentee"))
    expected_length = len(heading) + len(typed["mentor"]) + len(typed["mentee"])
    for client in (mentor, mentee):
        await client.wait_for(lambda c=client: len(str(c)) == expected_length)
    assert str(mentor) == str(mentee)
    for chunk in (typed["mentor"] + typed["mentee"]).split(";")[:-1]:
        assert chunk + ";" in str(mentor), f"lost {chunk}"
    assert await service.app[NOTE_ROOMS].read_text(service.seed.meeting_id) == str(mentor)
    await mentor.close()
    await mentee.close()


async def test_unicode_and_a_late_joiner(start: Start) -> None:
    service = await start()
    mentor = await service.client("mentor")
    await mentor.insert(len(str(mentor)), "Olá, 日本語 and emoji 🌍 — fine\n")
    late = await service.client("mentee")
    assert str(late) == str(mentor)
    await late.close()
    await mentor.close()


async def test_only_the_pair_may_open_the_socket(start: Start) -> None:
    service = await start()
    other = await make_pair(service.app, "stranger")
    revoked_secret, revoked = await service.app[REPOS].tokens.issue(service.seed.mentor.id)
    await service.app[REPOS].tokens.revoke(service.seed.mentor.id, revoked.id)
    mentor_url = service.url(service.seed.mentor.token)
    cases = {
        "no token": (service.url(None), {}),
        "bad token": (service.url("mst_nope"), {}),
        "revoked token": (service.url(revoked_secret), {}),
        "other pair": (service.url(other.mentor_token), {}),
        "own meeting, wrong pair": (service.url(service.seed.mentor.token, other.meeting_id), {}),
        "unknown meeting": (service.url(service.seed.mentor.token, "nope"), {}),
        "foreign origin": (mentor_url, {"Origin": "https://evil.example"}),
    }
    async with aiohttp.ClientSession() as session:
        for name, (url, headers) in cases.items():
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url, headers=headers)
            assert refused.value.status == 403, name
        own_origin = f"http://127.0.0.1:{service.server.port}"
        ws = await session.ws_connect(mentor_url, headers={"Origin": own_origin})
        await ws.close()
    assert service.app[NOTE_ROOMS].get(other.meeting_id) is None, "no document loaded for them"


async def test_the_session_cookie_opens_the_socket(start: Start) -> None:
    service = await start()
    base = f"http://127.0.0.1:{service.server.port}"
    # unsafe=True: aiohttp's jar otherwise drops cookies set by an IP-address host.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await session.get(base + service.seed.mentee.signin_path)
        ws = await session.ws_connect(service.url(None), headers={"Origin": base})
        frame = await ws.receive_bytes()
        assert isinstance(protocol.parse(frame), protocol.SyncMessage)
        await ws.close()


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x00\x05\x01\x00", "unknown sync step"),
        (b"\x00\x02\x09abc", "truncated"),
        (b"\x00\x02\x03\xff\xff\xff", "invalid update"),
        (b"\x07", "unsupported message type"),
        (b"\x00\x02\x02\x00\x00trailing", "trailing"),
        (b"\x01\x05\x01\x01\x01\x01\xff", "invalid UTF-8"),
        (b"\x01\x03\x01\x01", "truncated"),
        (b"\x01\x06\x01\x01\x01\x02{x", "not JSON"),
        ("a text frame", "text frame"),
    ],
)
async def test_malformed_messages_close_only_that_socket(
    start: Start, frame: bytes | str, reason: str
) -> None:
    service = await start()
    good, bad = await service.client("mentor"), await service.client("mentee")
    await good.insert(len(str(good)), "kept ")
    before = str(good)
    await bad.send_raw(frame)
    await bad.wait_closed()
    assert bad.close_code == 4400 and reason in bad.close_reason
    await good.insert(len(str(good)), "still working")
    after = await service.client("mentee")
    assert str(after) == before + "still working"
    await good.close()
    await after.close()


async def test_an_oversized_message_is_refused(start: Start) -> None:
    service = await start(notes_max_message_bytes=2000)
    client = await service.client()
    await client.insert(0, "x" * 5000)
    await client.wait_closed()
    assert client.close_code == 1009
    fresh = await service.client("mentee")
    assert "x" not in str(fresh), "the room and its document are untouched"
    await fresh.close()


async def test_a_document_over_the_limit_is_refused(start: Start) -> None:
    service = await start(notes_max_document_bytes=3000)
    client = await service.client()
    await client.insert(len(str(client)), "a" * 1000)
    await client.insert(len(str(client)), "b" * 2500)
    await client.wait_closed()
    assert client.close_code == 4413 and "limit" in client.close_reason
    fresh = await service.client("mentee")
    assert "a" * 1000 in str(fresh) and "b" not in str(fresh)
    await fresh.close()


async def test_presence_reaches_others_and_leaves_with_the_socket(start: Start) -> None:
    service = await start()
    mentor = await service.client("mentor")
    await mentor.set_presence({"user": {"name": "Helena Costa", "color": "#5b3cc4"}})
    mentee = await service.client("mentee")
    await mentee.wait_for(
        lambda: any(s["user"]["name"] == "Helena Costa" for s in mentee.awareness.values())
    )
    await mentor.wait_for(lambda: len(mentor.awareness) == 1)  # the sender hears its own echo
    await mentor.close()
    await mentee.wait_for(lambda: not mentee.awareness)
    await mentee.close()


async def test_notes_survive_unloading_and_a_restart(start: Start) -> None:
    service = await start(notes_room_idle_seconds=0.05)
    client = await service.client()
    await client.insert(len(str(client)), "- [ ] send the draft @mentee by 2026-12-03\n")
    text = str(client)
    await client.close()
    await eventually(
        lambda: service.app[NOTE_ROOMS].get(service.seed.meeting_id) is None,
        what="the room to leave memory",
    )
    assert await service.app[NOTE_ROOMS].read_text(service.seed.meeting_id) == text
    await service.server.close()

    restarted = await start()
    assert restarted.seed.meeting_id == service.seed.meeting_id
    again = await restarted.client("mentee")
    assert str(again) == text, "no heading written twice, nothing lost"
    await again.close()


async def test_updates_are_compacted_as_they_accumulate(start: Start) -> None:
    service = await start(notes_compact_every=20)
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    for i in range(100):
        await mentor.insert(len(str(mentor)), f"{i} ")
    await mentee.wait_for(lambda: str(mentee).endswith("99 "))
    await mentor.close()
    await mentee.close()
    await service.server.close()  # compacts what is left on shutdown
    restarted = await start()
    assert await snapshot_flags(restarted.app, service.seed.meeting_id) == [1]
    reader = await restarted.client()
    assert str(reader) == str(mentee)
    await reader.close()


async def test_long_notes_are_not_re_merged_every_few_keystrokes(start: Start) -> None:
    """Merging costs as much as the whole document: once the notes are long, a compaction waits
    until the new history is at least half the last snapshot, so the cost per keystroke stays
    flat as a meeting's notes grow."""
    service = await start(notes_compact_every=5)
    mentor, mentee = await service.client("mentor"), await service.client("mentee")

    async def rows() -> int:
        return len(await snapshot_flags(service.app, service.seed.meeting_id))

    await mentor.insert(len(str(mentor)), "x" * 20000)
    for i in range(5):
        await mentor.insert(len(str(mentor)), f"{i}")
    room = service.app[NOTE_ROOMS].get(service.seed.meeting_id)
    assert room is not None
    await mentee.wait_for(lambda: str(mentee).endswith("4"))
    await room.settled()  # committed, and the compaction those updates began is done
    assert await rows() <= 2, "short notes: compacted after a few updates"
    for _ in range(30):  # 30 small keystrokes: far less than half of the 20 KB snapshot
        await mentor.insert(len(str(mentor)), "y")
    await mentee.wait_for(lambda: str(mentee).endswith("y" * 30))
    await room.settled()
    assert await rows() >= 30, "the long snapshot was merged again too soon"
    await mentor.insert(len(str(mentor)), "z" * 12000)  # now the history is over half of it
    for _ in range(5):
        await mentor.insert(len(str(mentor)), "w")
    await mentee.wait_for(lambda: str(mentee).endswith("w" * 5))
    await room.settled()
    assert await rows() <= 6
    await mentor.close()
    await mentee.close()


async def test_offline_edits_merge_on_reconnect(start: Start) -> None:
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    await mentor.close()
    await mentor.insert(len(str(mentor)), "written offline ")
    await mentee.insert(len(str(mentee)), "written online ")
    await mentor.connect()
    await asyncio.wait_for(mentor.synced.wait(), 30)
    await mentee.wait_for(lambda: "offline" in str(mentee))
    await mentor.wait_for(lambda: "online" in str(mentor))
    assert str(mentor) == str(mentee)
    await mentor.close()
    await mentee.close()


async def test_notes_export_as_markdown(start: Start) -> None:
    service = await start()
    client = await service.client()
    await client.insert(len(str(client)), "Agreed: we meet on Tuesdays\n")
    headers = {"Authorization": f"Bearer {service.seed.mentee.token}"}
    base = f"http://127.0.0.1:{service.server.port}/api/v1/meetings/{service.seed.meeting_id}"
    async with aiohttp.ClientSession(headers=headers) as session:
        as_json = await (await session.get(base + "/notes")).json()
        download = await session.get(base + "/notes.md")
        assert download.content_type == "text/markdown"
        assert "attachment" in download.headers["Content-Disposition"]
        assert await download.text() == as_json["markdown"] == str(client)
    await client.close()


async def test_shutdown_closes_note_sockets_with_going_away(start: Start) -> None:
    service = await start()
    client = await service.client()
    await service.server.close()
    await client.wait_closed()
    assert client.close_code == 1001


async def test_a_failed_store_loses_nothing_once_clients_resync(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    store = service.app[NOTE_ROOMS].store
    real_submit = store.submit
    failures = iter([True])

    def flaky_submit(meeting_id: str, update: bytes, author: str | None) -> asyncio.Future[None]:
        if next(failures, False):
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(OSError("disk full"))
            return failed
        return real_submit(meeting_id, update, author)

    monkeypatch.setattr(store, "submit", flaky_submit)
    await mentor.insert(len(str(mentor)), "typed while the disk was full")
    for client in (mentor, mentee):
        await client.wait_closed()
        assert client.close_code == 1011
    assert service.app[NOTE_ROOMS].get(service.seed.meeting_id) is None
    await mentor.connect()  # as y-websocket does by itself after a 1011
    await asyncio.wait_for(mentor.synced.wait(), 30)
    reader = await service.client("mentee")
    await reader.wait_for(lambda: "disk was full" in str(reader))
    for client in (mentor, reader):
        await client.close()


async def test_an_echoed_presence_does_not_change_who_leaves(start: Start) -> None:
    """y-websocket clients re-broadcast the states they receive, with the same clock."""
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    await mentor.set_presence({"user": {"name": "Helena"}})
    await mentee.set_presence({"user": {"name": "Arjun"}})
    await mentee.wait_for(lambda: mentor.doc.client_id in mentee.awareness)
    echo = protocol.AwarenessEntry(mentor.doc.client_id, 1, '{"user": {"name": "Helena"}}')
    await mentee.send_raw(protocol.awareness(protocol.encode_awareness([echo])))
    await mentor.wait_for(lambda: len(mentor.awareness) == 2)
    await mentor.close()
    await mentee.wait_for(lambda: mentor.doc.client_id not in mentee.awareness)
    assert mentee.doc.client_id in mentee.awareness, "the one who stayed is still present"
    await mentee.close()
