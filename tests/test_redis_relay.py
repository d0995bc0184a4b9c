"""Two instances on one PostgreSQL database and one Redis: live notes, presence and panel events
cross between them (sidecar/relay/).

Two apps (create_app) on the same `postgres_url` and `redis_url`, each on its own TestServer;
real npm Yjs clients (web/test-clients/yjs_sync.mjs) connect one to each. Skipped, saying why,
without node and web/node_modules, without PostgreSQL, or without redis-server.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.keys import LIVE_EVENTS, NOTE_ROOMS, REDIS_RELAY
from sidecar.notes import room as room_module
from sidecar.relay import redis_relay
from sidecar.settings import Settings, SettingsError
from tests.notes_client import NotesClient
from tests.redis_server import RedisServer
from tests.test_notes_node_client import (
    HEADING,
    MISSING,
    NODE,
    NodeDriver,
    assert_contiguous,
    rest_notes,
    ws_base,
)
from tests.waiting import eventually

pytestmark = pytest.mark.skipif(
    NODE is None or bool(MISSING),
    reason="node is not installed"
    if NODE is None
    else f"web/node_modules lacks {', '.join(MISSING)}: run `npm ci` in web/",
)

ServerFactory = Callable[..., Awaitable[TestServer]]


class Instances:
    def __init__(self, a: TestServer, b: TestServer, demo: DemoSeed) -> None:
        self.a, self.b, self.demo = a, b, demo

    async def connect(self, node: NodeDriver, client: str, server: TestServer, who: str) -> None:
        person = self.demo.mentor if who == "mentor" else self.demo.mentee
        await node.call(
            "connect",
            client=client,
            url=ws_base(server),
            room=self.demo.meeting_id,
            token=person.token,
            name=person.name,
            role=person.role,
            within=40,
        )


def _settings(
    tmp_path: Path, name: str, postgres_url: str, redis_url: str, resync: float
) -> Settings:
    return Settings(
        data_dir=tmp_path / name,
        database_url=postgres_url,
        redis_url=redis_url,
        redis_resync_seconds=resync,
    )


async def _instances(
    aiohttp_server: ServerFactory, tmp_path: Path, postgres_url: str, redis_url: str, resync: float
) -> Instances:
    a = await aiohttp_server(create_app(_settings(tmp_path, "a", postgres_url, redis_url, resync)))
    b = await aiohttp_server(create_app(_settings(tmp_path, "b", postgres_url, redis_url, resync)))
    for server in (a, b):
        relay = server.app[REDIS_RELAY]
        await eventually(lambda relay=relay: relay.connected, what="the relay subscribed")
    return Instances(a, b, await seed_demo(a.app))


@pytest.fixture
async def two(
    postgres_url: str, redis_url: str, aiohttp_server: ServerFactory, tmp_path: Path
) -> Instances:
    # The database and Redis are asked for first, so the servers close before they go.
    return await _instances(aiohttp_server, tmp_path, postgres_url, redis_url, 2.0)


async def test_two_instances_converge_share_presence_and_a_late_joiner_gets_everything(
    two: Instances, node: NodeDriver
) -> None:
    await two.connect(node, "mentor", two.a, "mentor")
    await two.connect(node, "mentee", two.b, "mentee")
    helena, arjun = "\nHelena on instance A ✍️", "\nArjun on instance B ☕"
    await node.call(
        "type",
        jobs=[
            {"client": "mentor", "at": "end", "text": helena},
            {"client": "mentee", "at": "start", "text": arjun},
        ],
        within=60,
    )
    text = (await node.call("converge", clients=["mentor", "mentee"], within=40))["text"]
    assert_contiguous(text, helena, arjun)

    # Presence crosses over: each sees the other by name.
    await node.call("waitPeers", client="mentor", names=["Arjun Mehta"], within=40)
    await node.call("waitPeers", client="mentee", names=["Helena Costa"], within=40)

    # Someone joining later on B gets everything, and both services hold the same text.
    await two.connect(node, "late", two.b, "mentor")
    await node.call("waitFor", client="late", equals=text, within=40)
    token = two.demo.mentor.token
    assert await rest_notes(two.a, token, two.demo.meeting_id) == text
    assert await rest_notes(two.b, token, two.demo.meeting_id) == text

    # Leaving on one instance is seen on the other.
    await node.call("destroy", client="mentee")
    await node.call("waitPeers", client="mentor", absent=["Arjun Mehta"], within=40)


async def _events_socket(
    session: aiohttp.ClientSession, server: TestServer, path: str, token: str
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(server.make_url(f"{path}?token={token}"))
    hello = await asyncio.wait_for(ws.receive(), 30)
    assert json.loads(hello.data) == {"type": "hello"}
    return ws


async def _next_event(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(ws.receive(), 30)
        event = dict(json.loads(message.data))
        if event.get("type") != "pong":
            return event


async def test_a_panel_event_on_one_instance_reaches_a_panel_on_the_other(
    two: Instances,
) -> None:
    demo = two.demo
    async with aiohttp.ClientSession() as session:
        panel_b = await _events_socket(
            session, two.b, f"/ws/meetings/{demo.meeting_id}/events", demo.mentee.token
        )
        agreement_b = await _events_socket(
            session, two.b, f"/ws/mentorships/{demo.mentorship_id}/events", demo.mentee.token
        )
        # A change made through A's API (A has no panel of this meeting open).
        async with session.post(
            two.a.make_url(f"/api/v1/meetings/{demo.meeting_id}/agenda"),
            headers={"Authorization": f"Bearer {demo.mentor.token}"},
            json={"section": "topics", "text": "Visa paperwork"},
        ) as added:
            assert added.status in (200, 201), await added.text()
        assert await _next_event(panel_b) == {"type": "agenda", "by": demo.mentor.id}
        assert await _next_event(agreement_b) == {"type": "agenda", "by": demo.mentor.id}

        # With a panel open on A too, a mentorship-wide event reaches both, each once.
        panel_a = await _events_socket(
            session, two.a, f"/ws/meetings/{demo.meeting_id}/events", demo.mentor.token
        )
        await two.a.app[LIVE_EVENTS].publish(
            "goals", demo.mentor.id, mentorship_id=demo.mentorship_id
        )
        expected = {"type": "goals", "by": demo.mentor.id}
        assert await _next_event(panel_a) == expected
        assert await _next_event(panel_b) == expected
        assert await _next_event(agreement_b) == expected
        # Each heard it once: the next thing on each socket is the answer to a ping.
        for ws in (panel_a, panel_b, agreement_b):
            await ws.send_str("ping")
            message = await asyncio.wait_for(ws.receive(), 30)
            assert json.loads(message.data) == {"type": "pong"}
        for ws in (panel_a, panel_b, agreement_b):
            await ws.close()


@pytest.mark.parametrize(
    "resync",
    [
        pytest.param(0.3, id="converge-while-down"),  # the periodic resync while Redis is down
        pytest.param(3600.0, id="converge-after-restart"),  # only the resync on resubscribing
    ],
)
async def test_redis_stopped_mid_meeting_loses_nothing(
    postgres_url: str,
    redis_url: str,
    redis_server: RedisServer,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    node: NodeDriver,
    resync: float,
) -> None:
    two = await _instances(aiohttp_server, tmp_path, postgres_url, redis_url, resync)
    await two.connect(node, "mentor", two.a, "mentor")
    await two.connect(node, "mentee", two.b, "mentee")
    before = "\nBefore the outage"
    await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": before}])
    await node.call("waitFor", client="mentee", contains=[before], within=40)

    redis_server.stop()
    for server in (two.a, two.b):
        relay = server.app[REDIS_RELAY]
        await eventually(lambda relay=relay: not relay.connected, what="the relay saw the loss")
    # Typing, commits and each instance's own relay go on while Redis is down.
    helena, arjun = "\nHelena during the outage", "\nArjun during the outage"
    await node.call(
        "type",
        jobs=[
            {"client": "mentor", "at": "end", "text": helena},
            {"client": "mentee", "at": "start", "text": arjun},
        ],
        within=60,
    )
    token = two.demo.mentor.token
    meeting = two.demo.meeting_id

    async def stored(server: TestServer, words: str) -> bool:
        return words in await rest_notes(server, token, meeting)

    await eventually(lambda: stored(two.a, helena), what="A committed Helena's words")
    await eventually(lambda: stored(two.b, arjun), what="B committed Arjun's words")
    assert (await node.call("state", client="mentor"))["connected"]

    if resync < 10:  # both converge through the database, Redis still down
        text = (await node.call("converge", clients=["mentor", "mentee"], within=40))["text"]
        assert_contiguous(text, before, helena, arjun)
    redis_server.start()
    for server in (two.a, two.b):
        relay = server.app[REDIS_RELAY]
        await eventually(lambda relay=relay: relay.connected, what="the relay resubscribed")
    text = (await node.call("converge", clients=["mentor", "mentee"], within=40))["text"]
    assert_contiguous(text, before, helena, arjun)

    # Live again across instances.
    after = "\nAfter the outage"
    await node.call("type", jobs=[{"client": "mentee", "at": "end", "text": after}])
    await node.call("waitFor", client="mentor", contains=[after], within=40)
    text = (await node.call("converge", clients=["mentor", "mentee"], within=40))["text"]
    assert_contiguous(text, before, helena, arjun, after)
    assert await rest_notes(two.a, token, meeting) == text
    assert await rest_notes(two.b, token, meeting) == text


async def test_an_update_whose_commit_fails_is_not_published(
    two: Instances, node: NodeDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two.connect(node, "mentee", two.b, "mentee")
    store = two.a.app[NOTE_ROOMS].store
    real_submit = store.submit
    refused = "NEVER-COMMITTED"

    def failing_submit(meeting_id: str, update: bytes, author: str | None) -> asyncio.Future[None]:
        if refused.encode() in update:
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(OSError("disk full"))
            return failed
        return real_submit(meeting_id, update, author)

    monkeypatch.setattr(store, "submit", failing_submit)
    url = f"{ws_base(two.a)}/{two.demo.meeting_id}?token={two.demo.mentor.token}"
    python = await NotesClient(url).connect()
    try:
        await asyncio.wait_for(python.synced.wait(), 30)
        await python.insert(len(str(python).encode()), refused)
        await python.wait_closed()  # A dropped its room (1011): the commit failed
    finally:
        await python.close()

    # A later update on A, committed: published after the refused one would have been.
    await two.connect(node, "mentor", two.a, "mentor")
    later = "\ncommitted later on A"
    await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": later}])
    await node.call("waitFor", client="mentee", contains=[later], within=40)
    seen = (await node.call("state", client="mentee"))["text"]
    assert refused not in seen
    assert refused not in await rest_notes(two.b, two.demo.mentee.token, two.demo.meeting_id)


async def test_a_new_meeting_opened_on_both_instances_at_once_has_one_heading(
    two: Instances, node: NodeDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = two.demo
    # Both rooms load the empty notes at the same time: each instance writes the heading. Each
    # first load waits until the other one has read storage too.
    loaded = {server: asyncio.Event() for server in (two.a, two.b)}
    for server in (two.a, two.b):
        store = server.app[NOTE_ROOMS].store
        real_load = store.load

        async def load_together(
            meeting_id: str, real_load: Any = real_load, server: TestServer = server
        ) -> Any:
            stored = await real_load(meeting_id)
            if not loaded[server].is_set():
                loaded[server].set()
                await asyncio.gather(*(event.wait() for event in loaded.values()))
            return stored

        monkeypatch.setattr(store, "load", load_together)
    # The Node driver runs one command at a time: the join on B is a Python client's.
    python = NotesClient(f"{ws_base(two.b)}/{demo.meeting_id}?token={demo.mentee.token}")
    join_a = two.connect(node, "mentor", two.a, "mentor")
    await asyncio.wait_for(asyncio.gather(join_a, python.connect()), 60)
    await python.close()
    await two.connect(node, "mentee", two.b, "mentee")
    words = "\nfirst words"
    await node.call("type", jobs=[{"client": "mentee", "at": "end", "text": words}])
    await node.call("waitFor", client="mentor", contains=[words], within=40)
    text = (await node.call("converge", clients=["mentor", "mentee"], within=40))["text"]
    assert len(HEADING.findall(text)) == 1, f"the heading was written twice:\n{text}"
    assert await rest_notes(two.b, demo.mentor.token, demo.meeting_id) == text


async def test_people_of_an_instance_gone_silent_are_not_shown_to_a_newcomer(
    two: Instances, node: NodeDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two.connect(node, "mentor", two.a, "mentor")
    await two.connect(node, "mentee", two.b, "mentee")
    await node.call("waitPeers", client="mentee", names=["Helena Costa"], within=40)
    # A goes silent as a killed instance would: it can no longer say that Helena left.
    await two.a.app[REDIS_RELAY].stop()
    await node.call("destroy", client="mentor")
    # Clients drop a peer silent for 30 s; here "silent" starts at once.
    monkeypatch.setattr(room_module, "REMOTE_PRESENCE_TIMEOUT_SECONDS", -1.0)
    await two.connect(node, "late", two.b, "mentor")
    await node.call("waitPeers", client="late", names=["Arjun Mehta"], within=40)
    peers = (await node.call("state", client="late"))["peers"]
    assert "Helena Costa" not in peers, peers


async def test_stop_ends_a_publisher_whose_cancellation_came_out_as_a_failure(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py can report a cancellation as a failure (a TimeoutError, an OSError): the
    publisher, which survives failures, then went back to waiting and `stop()` waited for it
    without end (a PostgreSQL run hung 20 minutes in the test above, on a publisher task
    "cancelling" but back in its wait). `stop()` must end it all the same."""
    relay = redis_relay.RedisRelay(redis_url, resync_seconds=0.5)
    sending = asyncio.Event()

    async def send_that_turns_cancels_into_timeouts(publisher: Any, batch: Any) -> None:
        sending.set()
        try:
            await asyncio.get_running_loop().create_future()  # a reply that never comes
        except asyncio.CancelledError:
            raise TimeoutError("Timeout reading from 127.0.0.1") from None

    monkeypatch.setattr(relay, "_send", send_that_turns_cancels_into_timeouts)
    await relay.start()
    try:
        await eventually(lambda: relay.connected, what="the relay to subscribe")
        relay.publish(redis_relay.notes_channel("m"), b"an update")
        await asyncio.wait_for(sending.wait(), 30)
    finally:
        stopping = asyncio.ensure_future(relay.stop())
        # A bound that turns a hang into a failure (not a pace: it returns as soon as stopped).
        await asyncio.wait({stopping}, timeout=60)
    assert stopping.done(), "stop() is still waiting for the publisher"
    stopping.result()


def test_redis_without_a_shared_database_is_refused_in_words() -> None:
    with pytest.raises(SettingsError) as refused:  # the default: the SQLite file of one process
        Settings.from_env(
            {
                "MENTOR_SIDECAR_REDIS_URL": "redis://:secret@127.0.0.1:6379/0",
                "MENTOR_SIDECAR_DATABASE_URL": "",
            }
        )
    words = str(refused.value)
    assert "MENTOR_SIDECAR_REDIS_URL" in words and "shared database" in words
    assert "secret" not in words
    with pytest.raises(SettingsError):
        Settings.from_env(
            {
                "MENTOR_SIDECAR_REDIS_URL": "redis://127.0.0.1:6379/0",
                "MENTOR_SIDECAR_DATABASE_URL": "sqlite:///tmp/one.sqlite3",
            }
        )
    both = Settings.from_env(
        {
            "MENTOR_SIDECAR_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MENTOR_SIDECAR_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/sidecar",
        }
    )
    assert both.redis_url == "redis://127.0.0.1:6379/0"


async def test_messages_one_instance_failed_to_publish_reach_the_other_through_the_store(
    two: Instances, node: NodeDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two.connect(node, "mentor", two.a, "mentor")
    await two.connect(node, "mentee", two.b, "mentee")
    relay = two.a.app[REDIS_RELAY]
    real_send = relay._send
    lost = "LOST-ON-THE-WAY"

    async def failing_send(publisher: Any, batch: list[tuple[bytes, bytes]]) -> None:
        if any(lost.encode() in data for _, data in batch):
            raise ConnectionError("connection reset")  # A's publishing connection alone fails
        await real_send(publisher, batch)

    monkeypatch.setattr(relay, "_send", failing_send)
    url = f"{ws_base(two.a)}/{two.demo.meeting_id}?token={two.demo.mentor.token}"
    python = await NotesClient(url).connect()
    try:
        await asyncio.wait_for(python.synced.wait(), 30)
        await python.insert(len(str(python).encode()), lost)
        await node.call("waitFor", client="mentor", contains=[lost], within=40)  # A relayed it
        # The next message A publishes tells B to read the store: it finds the lost words.
        later = "\npublished later"
        await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": later}])
        await node.call("waitFor", client="mentee", contains=[lost, later], within=40)
        text = (await node.call("converge", clients=["mentor", "mentee"], within=40))["text"]
        assert_contiguous(text, lost, later)
    finally:
        await python.close()


async def test_a_redis_that_hangs_is_noticed_and_nothing_is_lost(
    two: Instances, node: NodeDriver, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stopped (SIGSTOP) Redis sends no error: the relay's PING goes unanswered instead."""
    monkeypatch.setattr(redis_relay, "HEALTH_SECONDS", 0.3)
    await two.connect(node, "mentor", two.a, "mentor")
    await two.connect(node, "mentee", two.b, "mentee")
    process = redis_server._process
    assert process is not None
    process.send_signal(signal.SIGSTOP)
    try:
        for server in (two.a, two.b):
            relay = server.app[REDIS_RELAY]
            await eventually(lambda relay=relay: not relay.connected, what="the hang noticed")
        words = "\ntyped while Redis hangs"
        await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": words}])
        # The periodic resync (2 s here) brings them to the other instance meanwhile.
        await node.call("waitFor", client="mentee", contains=[words], within=40)
    finally:
        process.send_signal(signal.SIGCONT)
    for server in (two.a, two.b):
        relay = server.app[REDIS_RELAY]
        await eventually(lambda relay=relay: relay.connected, what="the relay back")
    after = "\nafter the hang"
    await node.call("type", jobs=[{"client": "mentee", "at": "end", "text": after}])
    await node.call("waitFor", client="mentor", contains=[after], within=40)
