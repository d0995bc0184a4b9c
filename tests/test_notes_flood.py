"""Fast senders are slowed down, never disconnected; sockets close only when reconnecting
cannot help (4401 revoked, 4410 erased) or with a code the client reconnects after (1001).

The bursts come from the real npm clients (yjs + y-websocket 3.1, web/test-clients/
yjs_sync.mjs) doing what Yjs's own tests do: many separate small updates, as fast as they can.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sidecar import privacy
from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.keys import REPOS, WEBSOCKETS
from sidecar.limits import TokenBucket
from sidecar.settings import Settings
from sidecar.web.open_sockets import close_token_sockets
from tests.notes_client import NotesClient
from tests.test_notes_node_client import MISSING, NODE, NodeDriver, rest_notes, ws_base
from tests.waiting import eventually

needs_node = pytest.mark.skipif(
    NODE is None or bool(MISSING), reason="needs node and web/node_modules (`npm ci` in web/)"
)
both_paths = pytest.mark.usefixtures("notes_path")  # aiohttp's fast path and the public one
ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often a socket handler had to wait for its message budget."""
    count = [0]
    real = TokenBucket.wait

    async def counted(self: TokenBucket, *args: Any) -> None:
        count[0] += 1
        await real(self, *args)

    monkeypatch.setattr(TokenBucket, "wait", counted)
    return count


async def start(factory: ServerFactory, tmp_path: Path, **overrides: Any) -> TestServer:
    settings = Settings(data_dir=tmp_path / "data", **overrides)
    server: TestServer = await factory(create_app(settings))
    return server


async def connect_plain(node: NodeDriver, server: TestServer, demo: DemoSeed) -> None:
    """Bare y-websocket providers (no panel code), as a third-party Yjs app would use."""
    for client, person in (("mentor", demo.mentor), ("mentee", demo.mentee)):
        await node.call(
            "connect",
            client=client,
            url=ws_base(server),
            room=demo.meeting_id,
            token=person.token,
            name=person.name,
            plain=True,
            timeoutMs=30000,
        )


def times_connected(node: NodeDriver, client: str) -> int:
    return sum(
        1
        for e in node.events
        if e["event"] == "status" and e["client"] == client and e["status"] == "connected"
    )


@needs_node
@both_paths
async def test_2000_separate_updates_as_fast_as_a_client_can_stay_connected_and_converge(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver, waits: list[int]
) -> None:
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    await connect_plain(node, server, demo)
    text = "".join(chr(ord("a") + i % 26) for i in range(2000))
    # delayMs 0: 2,000 transactions in one tick, so 2,000 websocket messages back to back.
    await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": text, "delayMs": 0}])
    await node.call("waitFor", client="mentee", contains=[text], timeoutMs=60000, within=70)
    converged = await node.call("converge", clients=["mentor", "mentee"], within=70)
    assert text in converged["text"]
    assert waits[0] > 0, "the sender was over its budget and slowed down"
    for client in ("mentor", "mentee"):
        state = await node.call("state", client=client)
        assert state["closed"] is None and state["connected"], f"{client} was disconnected"
        assert times_connected(node, client) == 1, f"{client} had to reconnect"
    assert text in await rest_notes(server, demo.mentor.token, demo.meeting_id)


@needs_node
@both_paths
async def test_both_people_bursting_at_once_stay_connected_and_converge(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver
) -> None:
    """Both people, 20 rounds of 10 single-character inserts 2 ms apart (which the service
    used to close with 4429, and y-websocket then never reconnected)."""
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    await connect_plain(node, server, demo)
    for n in range(20):
        await node.call(
            "type",
            jobs=[
                {"client": "mentor", "at": "end", "text": f"M{n:02d}-mmmmm|", "delayMs": 2},
                {"client": "mentee", "at": "start", "text": f"E{n:02d}-eeeee|", "delayMs": 2},
            ],
        )
    text = (await node.call("converge", clients=["mentor", "mentee"], timeoutMs=30000))["text"]
    for n in range(20):
        for word in (f"M{n:02d}-mmmmm|", f"E{n:02d}-eeeee|"):
            assert text.count(word) == 1, f"{word} is not in the notes once:\n{text}"
    for client in ("mentor", "mentee"):
        state = await node.call("state", client=client)
        assert state["closed"] is None and state["connected"], f"{client} was disconnected"
        assert times_connected(node, client) == 1, f"{client} had to reconnect"
    assert await rest_notes(server, demo.mentee.token, demo.meeting_id) == text


@both_paths
async def test_holding_a_key_down_with_a_cursor_each_time_is_slowed_not_closed(
    aiohttp_server: ServerFactory, tmp_path: Path, waits: list[int]
) -> None:
    """Key repeat sends an update and a presence (cursor) message per character; past the
    budget the sender waits, and the other person still gets every character, in order."""
    server = await start(aiohttp_server, tmp_path, websocket_messages_per_second=50)
    demo = await seed_demo(server.app)
    base = f"{ws_base(server)}/{demo.meeting_id}?token="
    typist = await NotesClient(base + demo.mentor.token).connect()
    peer = await NotesClient(base + demo.mentee.token).connect()
    await asyncio.wait_for(asyncio.gather(typist.synced.wait(), peer.synced.wait()), 30)
    for n in range(150):  # 300 messages, three times the burst of 100
        await typist.insert(len(str(typist)), "x")
        await typist.set_presence({"user": {"name": "Helena"}, "cursor": n}, clock=n + 1)
    await peer.wait_for(lambda: str(peer) == str(typist))
    assert str(typist).endswith("x" * 150)
    assert waits[0] > 0
    assert typist.close_code is None and peer.close_code is None
    for client in (typist, peer):
        await client.close()


# --- closing when reconnecting cannot help, or with a code the client reconnects after --------


@dataclass
class Sockets:
    """One person's notes socket and live-events socket of the demo meeting."""

    notes: NotesClient
    events: aiohttp.ClientWebSocketResponse
    closed: asyncio.Future[int | None]  # the events socket's close code

    async def close(self) -> None:
        await self.notes.close()
        await self.events.close()


async def open_sockets(
    server: TestServer, session: aiohttp.ClientSession, demo: DemoSeed, token: str
) -> Sockets:
    notes = await NotesClient(f"{ws_base(server)}/{demo.meeting_id}?token={token}").connect()
    await asyncio.wait_for(notes.synced.wait(), 30)
    url = server.make_url(f"/ws/meetings/{demo.meeting_id}/events").with_query(token=token)
    events = await session.ws_connect(url)
    assert (await events.receive_json())["type"] == "hello"

    async def close_code() -> int | None:
        async for _ in events:
            pass
        return events.close_code

    return Sockets(notes, events, asyncio.ensure_future(close_code()))


async def closed_with(sockets: Sockets, code: int) -> None:
    await sockets.notes.wait_closed()
    assert sockets.notes.close_code == code
    assert await asyncio.wait_for(sockets.closed, 30) == code


@both_paths
async def test_revoking_a_token_closes_its_sockets_with_4401(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    secret, token = await server.app[REPOS].tokens.issue(demo.mentor.id, label="laptop")
    async with aiohttp.ClientSession() as session:
        laptop = await open_sockets(server, session, demo, secret)
        other = await open_sockets(server, session, demo, demo.mentor.token)  # same person
        peer = await open_sockets(server, session, demo, demo.mentee.token)
        response = await session.delete(
            server.make_url(f"/api/v1/me/tokens/{token.id}"),
            headers={"Authorization": f"Bearer {demo.mentor.token}"},
        )
        assert response.status == 200, await response.text()
        await closed_with(laptop, 4401)
        assert "revoked" in laptop.notes.close_reason
        for still in (other, peer):  # another device of the same person, and the other person
            assert still.notes.close_code is None and not still.events.closed
        await peer.notes.insert(len(str(peer.notes)), "still here")
        await other.notes.wait_for(lambda: str(other.notes).endswith("still here"))
        for sockets in (other, peer):
            await sockets.close()
    await eventually(lambda: len(server.app[WEBSOCKETS]) == 0, what="every socket to leave")


@both_paths
async def test_signing_out_closes_that_sessions_sockets_with_4401(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    session_secret, _ = await server.app[REPOS].tokens.issue(
        demo.mentee.id, kind="session", label="browser"
    )
    origin = str(server.make_url("/").origin())
    async with aiohttp.ClientSession() as session:
        browser = await open_sockets(server, session, demo, session_secret)
        peer = await open_sockets(server, session, demo, demo.mentor.token)
        response = await session.post(
            server.make_url("/signout"),
            headers={"Cookie": f"sidecar_session={session_secret}", "Origin": origin},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        await closed_with(browser, 4401)
        assert peer.notes.close_code is None and not peer.events.closed
        await peer.close()


@both_paths
async def test_erasing_the_mentorship_closes_its_sockets_with_4410(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    async with aiohttp.ClientSession() as session:
        mentor = await open_sockets(server, session, demo, demo.mentor.token)
        mentee = await open_sockets(server, session, demo, demo.mentee.token)
        await privacy.delete_mentorship(server.app, demo.mentorship_id)
        for sockets in (mentor, mentee):
            await closed_with(sockets, 4410)
            assert "erased" in sockets.notes.close_reason


@needs_node
async def test_a_real_client_stops_reconnecting_after_4401(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver
) -> None:
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    secret, token = await server.app[REPOS].tokens.issue(demo.mentee.id)
    await node.call(
        "connect",
        client="mentee",
        url=ws_base(server),
        room=demo.meeting_id,
        token=secret,
        plain=True,
        timeoutMs=30000,
    )
    await server.app[REPOS].tokens.revoke(demo.mentee.id, token.id)
    assert await close_token_sockets(server.app, token.id) == 1
    closed = await node.call("waitClosed", client="mentee", timeoutMs=30000, within=40)
    assert closed["closed"]["code"] == 4401
    assert times_connected(node, "mentee") == 1


@both_paths
async def test_shutdown_closes_notes_and_events_sockets_with_1001(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await start(aiohttp_server, tmp_path)
    demo = await seed_demo(server.app)
    async with aiohttp.ClientSession() as session:
        mentor = await open_sockets(server, session, demo, demo.mentor.token)
        mentee = await open_sockets(server, session, demo, demo.mentee.token)
        await server.close()
        for sockets in (mentor, mentee):
            await closed_with(sockets, 1001)
