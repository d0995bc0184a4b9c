"""A session revoked or a mentorship erased on one instance closes its sockets on every instance.

Two apps (create_app) on one PostgreSQL database and one Redis, each on its own TestServer; the
sockets are on instance B, the revocation or erasure goes through instance A
(sidecar/web/open_sockets.py publishes each close on `mentor-sidecar:closes`). Skipped, saying
why, without PostgreSQL or without redis-server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sidecar import privacy
from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.domain.errors import NotFound
from sidecar.keys import NOTE_ROOMS, REDIS_RELAY, REPOS
from sidecar.settings import Settings
from sidecar.web import open_sockets
from sidecar.web.open_sockets import close_person_sockets
from tests.notes_client import NotesClient
from tests.redis_server import RedisServer
from tests.waiting import eventually

ServerFactory = Callable[..., Awaitable[TestServer]]
WAIT = 30.0  # a deadline for a failure report, not a pace


class Two:
    def __init__(self, a: TestServer, b: TestServer, demo: DemoSeed) -> None:
        self.a, self.b, self.demo = a, b, demo


async def _two(
    aiohttp_server: ServerFactory, tmp_path: Path, postgres_url: str, redis_url: str, resync: float
) -> Two:
    servers = []
    for name in ("a", "b"):
        settings = Settings(
            data_dir=tmp_path / name,
            database_url=postgres_url,
            redis_url=redis_url,
            redis_resync_seconds=resync,
        )
        servers.append(await aiohttp_server(create_app(settings)))
    for server in servers:
        relay = server.app[REDIS_RELAY]
        await eventually(lambda relay=relay: relay.connected, what="the relay subscribed")
    return Two(servers[0], servers[1], await seed_demo(servers[0].app))


@pytest.fixture
async def two(
    postgres_url: str, redis_url: str, aiohttp_server: ServerFactory, tmp_path: Path
) -> Two:
    return await _two(aiohttp_server, tmp_path, postgres_url, redis_url, 2.0)


async def _notes(server: TestServer, meeting_id: str, token: str) -> NotesClient:
    url = f"ws://127.0.0.1:{server.port}/ws/notes/{meeting_id}?token={token}"
    client = await NotesClient(url).connect()
    await asyncio.wait_for(client.synced.wait(), WAIT)
    return client


async def _events(
    session: aiohttp.ClientSession, server: TestServer, meeting_id: str, token: str
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(
        server.make_url(f"/ws/meetings/{meeting_id}/events?token={token}")
    )
    hello = await asyncio.wait_for(ws.receive(), WAIT)
    assert json.loads(hello.data) == {"type": "hello"}
    return ws


async def _close_code(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """Wait for the server's close frame; its code."""
    while True:
        message = await asyncio.wait_for(ws.receive(), WAIT)
        if message.type == aiohttp.WSMsgType.CLOSE:
            return int(message.data)  # (ws.close_code may be 1006 if the server hung up first)
        if message.type == aiohttp.WSMsgType.CLOSED:
            return ws.close_code


async def _still_open(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_str("ping")
    while True:
        message = await asyncio.wait_for(ws.receive(), WAIT)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        if json.loads(message.data) == {"type": "pong"}:
            return


async def _device_token(two: Two, person_id: str) -> tuple[str, str]:
    """A second token of the person (another device): (secret, token id)."""
    secret, info = await two.a.app[REPOS].tokens.issue(person_id, kind="api", label="tablet")
    return secret, info.id


async def _revoke_on_a(
    session: aiohttp.ClientSession, two: Two, token_id: str, bearer: str
) -> None:
    """The person revokes one of their tokens through instance A's API."""
    async with session.delete(
        two.a.make_url(f"/api/v1/me/tokens/{token_id}"),
        headers={"Authorization": f"Bearer {bearer}"},
    ) as revoked:
        assert revoked.status == 200, await revoked.text()


async def test_revoking_a_token_on_a_closes_its_sockets_on_b_with_4401(two: Two) -> None:
    demo = two.demo
    secret, token_id = await _device_token(two, demo.mentee.id)
    async with aiohttp.ClientSession() as session:
        notes_b = await _notes(two.b, demo.meeting_id, secret)
        events_b = await _events(session, two.b, demo.meeting_id, secret)
        other_b = await _events(session, two.b, demo.meeting_id, demo.mentee.token)

        await _revoke_on_a(session, two, token_id, demo.mentee.token)

        assert await _close_code(events_b) == 4401
        await notes_b.wait_closed(WAIT)
        assert notes_b.close_code == 4401
        await _still_open(other_b)  # the person's other token keeps its socket

        # Signed out everywhere (or the profile erased) on A: every socket of theirs on B.
        await close_person_sockets(two.a.app, demo.mentee.id)
        assert await _close_code(other_b) == 4401


async def test_erasing_the_mentorship_on_a_closes_its_sockets_on_b_with_4410(two: Two) -> None:
    demo = two.demo
    async with aiohttp.ClientSession() as session:
        mentor_notes = await _notes(two.b, demo.meeting_id, demo.mentor.token)
        mentee_notes = await _notes(two.b, demo.meeting_id, demo.mentee.token)
        mentee_events = await _events(session, two.b, demo.meeting_id, demo.mentee.token)
        await mentee_notes.insert(0, "written on B before the erasure\n")
        await mentee_notes.round_trip()

        await privacy.delete_mentorship(two.a.app, demo.mentorship_id)

        assert await _close_code(mentee_events) == 4410
        for client in (mentor_notes, mentee_notes):
            await client.wait_closed(WAIT)
            assert client.close_code == 4410
        # B forgot its room too: nothing of the meeting is left for it to store.
        assert two.b.app[NOTE_ROOMS].get(demo.meeting_id) is None
        with pytest.raises(NotFound):
            await two.b.app[REPOS].meetings.get(demo.meeting_id, viewer=demo.mentee.id)


async def test_while_redis_is_down_b_finds_a_revoked_token_in_the_database(
    postgres_url: str,
    redis_url: str,
    redis_server: RedisServer,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
) -> None:
    two = await _two(aiohttp_server, tmp_path, postgres_url, redis_url, 0.5)
    demo = two.demo
    secret, token_id = await _device_token(two, demo.mentee.id)
    async with aiohttp.ClientSession() as session:
        events_a = await _events(session, two.a, demo.meeting_id, secret)
        events_b = await _events(session, two.b, demo.meeting_id, secret)
        redis_server.stop()
        for server in (two.a, two.b):
            relay = server.app[REDIS_RELAY]
            await eventually(lambda relay=relay: not relay.connected, what="Redis noticed gone")

        await _revoke_on_a(session, two, token_id, demo.mentee.token)

        # A closes at once; B, which heard nothing, at its next re-check against the database.
        assert await _close_code(events_a) == 4401
        assert await _close_code(events_b) == 4401
    redis_server.start()


async def test_a_close_message_lost_with_redis_up_is_made_good_by_the_periodic_recheck(
    postgres_url: str,
    redis_url: str,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(open_sockets, "RECHECK_SECONDS", 0.2)
    two = await _two(aiohttp_server, tmp_path, postgres_url, redis_url, 2.0)
    demo = two.demo
    secret, token_id = await _device_token(two, demo.mentee.id)
    async with aiohttp.ClientSession() as session:
        revoked_b = await _events(session, two.b, demo.meeting_id, secret)
        kept_b = await _events(session, two.b, demo.meeting_id, demo.mentee.token)
        # Revoked in the database with no close message at all (as if its PUBLISH was lost).
        await two.a.app[REPOS].tokens.revoke(demo.mentee.id, token_id)
        assert await _close_code(revoked_b) == 4401
        await _still_open(kept_b)
