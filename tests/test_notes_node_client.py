"""The live notes with the real npm clients: yjs + y-websocket's WebsocketProvider, from Node.

The Node side is web/test-clients/yjs_sync.mjs, driven over stdin/stdout (one JSON command per
line, one JSON reply per command). Its clients are built by the panel's own
web/src/notes/connection.js, so the browser's reconnect and presence code runs here too.
Needs `node` and web/node_modules (`npm ci` in web/); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.settings import Settings
from tests.node_process import NodeProcess
from tests.notes_client import NotesClient
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
DRIVER = WEB / "test-clients" / "yjs_sync.mjs"
NODE = shutil.which("node")
MISSING = [
    name for name in ("yjs", "y-websocket", "ws") if not (WEB / "node_modules" / name).is_dir()
]

pytestmark = pytest.mark.skipif(
    NODE is None or bool(MISSING),
    reason="node is not installed"
    if NODE is None
    else f"web/node_modules lacks {', '.join(MISSING)}: run `npm ci` in web/",
)
# Every test on both paths, aiohttp's private fast path and the public one (tests/conftest.py).
pytestmark = [pytestmark, pytest.mark.usefixtures("notes_path")]

ServerFactory = Callable[..., Awaitable[TestServer]]
HEADING = re.compile(r"# Weekly check-in \((\d{4}-\d{2}-\d{2})\)")  # the first line


class NodeDriver(NodeProcess):
    """yjs_sync.mjs as a subprocess: `await call(cmd, ...)`, or `start(...)` to overlap work."""

    @classmethod
    async def launch(cls) -> NodeDriver:
        assert NODE is not None
        return cls(await cls.spawn(NODE, DRIVER, cwd=WEB, stderr=asyncio.subprocess.PIPE))

    async def exited(self) -> Exception:
        return RuntimeError(f"node exited: {await self.stderr()}")

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self.process.stderr.read(), 1)).decode()
        return ""

    async def call(self, cmd: str, *, within: float = 10, **args: Any) -> dict[str, Any]:
        return self.check(await asyncio.wait_for(self.start(cmd, **args), within), cmd)

    @staticmethod
    def check(reply: dict[str, Any], cmd: str) -> dict[str, Any]:
        assert reply["ok"], f"{cmd}: {reply.get('error')}"
        return reply


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def ws_base(server: TestServer) -> str:
    return str(server.make_url("/ws/notes")).replace("http://", "ws://", 1)


async def connect_pair(node: NodeDriver, server: TestServer, demo: DemoSeed) -> None:
    for client, person in (("mentor", demo.mentor), ("mentee", demo.mentee)):
        await node.call(
            "connect",
            client=client,
            url=ws_base(server),
            room=demo.meeting_id,
            token=person.token,
            name=person.name,
            role=person.role,
        )


async def rest_notes(server: TestServer, token: str, meeting_id: str, *, md: bool = False) -> str:
    path = f"/api/v1/meetings/{meeting_id}/notes" + (".md" if md else "")
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session,
        session.get(server.make_url(path)) as response,
    ):
        assert response.status == 200, await response.text()
        if md:
            return await response.text()
        body = await response.json()
        assert body["meeting_id"] == meeting_id
        markdown: str = body["markdown"]
        return markdown


async def meeting_day(server: TestServer, demo: DemoSeed) -> str:
    """The meeting's date where the mentee lives: the date the notes' first line carries."""
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {demo.mentor.token}"}) as s,
        s.get(server.make_url(f"/api/v1/meetings/{demo.meeting_id}")) as response,
    ):
        start = (await response.json())["scheduled_start"]
    instant = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return instant.astimezone(ZoneInfo(demo.mentee.timezone)).date().isoformat()


def assert_contiguous(text: str, *parts: str) -> None:
    for part in parts:
        assert text.count(part) == 1, f"{part!r} is not in the text exactly once:\n{text}"


async def test_npm_clients_and_python_type_together_and_converge(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver
) -> None:
    server = await aiohttp_server(create_app(settings_for(tmp_path)))
    demo = await seed_demo(server.app)
    await connect_pair(node, server, demo)
    python = NotesClient(f"{ws_base(server)}/{demo.meeting_id}?token={demo.mentee.token}")
    await python.connect()
    try:
        await asyncio.wait_for(python.synced.wait(), 30)
        await python.set_presence({"user": {"name": "Python observer"}})
        first = (await node.call("state", client="mentor"))["text"]
        match = HEADING.fullmatch(first.removesuffix("\n\n"))
        assert match, f"the notes do not start dated: {first!r}"
        assert match.group(1) == await meeting_day(server, demo)
        assert str(python) == first

        # Helena types at the end of the heading line while Arjun starts a new line, and the
        # Python client appends at the same time (pycrdt positions are UTF-8 byte offsets).
        mentor_words = " · Helena's notes ✍️"
        mentee_words = "Arjun: the case study draft is 80% done, café ☕ and 🎯"
        typing = node.start(
            "type",
            jobs=[
                {"client": "mentor", "at": {"lineEnd": 1}, "text": mentor_words},
                {"client": "mentee", "at": "end", "text": mentee_words},
            ],
        )
        python_words = [" [py-1]", " [py-2]", " [py-3]"]
        for word in python_words:
            await python.insert(len(str(python).encode()), word)
            await asyncio.sleep(0.02)
        node.check(await asyncio.wait_for(typing, 60), "type")
        everything = [mentor_words, mentee_words, *python_words]
        await node.call("waitFor", client="mentor", contains=everything)
        text = (await node.call("converge", clients=["mentor", "mentee"]))["text"]
        assert_contiguous(text, mentor_words, mentee_words, *python_words)
        assert text.startswith(first.rstrip("\n") + mentor_words + "\n")
        await python.wait_for(lambda: str(python) == text)

        # Both type into the same line at the same spot at once: nothing is lost, and each
        # person's words stay together.
        helena, arjun = " [Helena: agreed, weekly]", " [Arjun: I'll share it Friday]"
        await node.call(
            "type",
            jobs=[
                {"client": "mentor", "at": {"lineEnd": 3}, "text": helena, "delayMs": 1},
                {"client": "mentee", "at": {"lineEnd": 3}, "text": arjun, "delayMs": 1},
            ],
        )
        text = (await node.call("converge", clients=["mentor", "mentee"]))["text"]
        assert_contiguous(text, helena, arjun, *everything)
        third_line = text.split("\n")[2]
        assert helena in third_line and arjun in third_line
        await python.wait_for(lambda: str(python) == text)

        # The service holds the same text; the Markdown download too.
        assert await rest_notes(server, demo.mentor.token, demo.meeting_id) == text
        assert await rest_notes(server, demo.mentee.token, demo.meeting_id, md=True) == text
        assert text.startswith(first.rstrip("\n"))

        # Presence crosses over too: each sees the other (and the Python client) by name.
        await node.call("waitPeers", client="mentor", names=["Arjun Mehta", "Python observer"])
        await node.call("waitPeers", client="mentee", names=["Helena Costa", "Python observer"])

        def names() -> set[str]:
            return {state.get("user", {}).get("name") for state in python.awareness.values()}

        await python.wait_for(lambda: {"Helena Costa", "Arjun Mehta"} <= names())
    finally:
        await python.close()


async def test_offline_edits_reach_the_server_after_a_restart(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver
) -> None:
    first = await aiohttp_server(create_app(settings_for(tmp_path)))
    port = first.port
    demo = await seed_demo(first.app)
    await connect_pair(node, first, demo)
    before_m, before_e = "\nBefore the restart (Helena)", "\nBefore the restart (Arjun)"
    await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": before_m}])
    # The mentee types after Helena's line has reached her screen, as a person would: typing
    # at an end she has not seen yet would interleave the two lines (as a busy machine showed).
    await node.call("waitFor", client="mentee", contains=[before_m])
    await node.call("type", jobs=[{"client": "mentee", "at": "end", "text": before_e}])
    text = (await node.call("converge", clients=["mentor", "mentee"]))["text"]
    assert await rest_notes(first, demo.mentor.token, demo.meeting_id) == text

    # The service goes away; both keep typing into their own copy.
    await first.close()
    for client in ("mentor", "mentee"):
        await node.call("waitStatus", client=client, connected=False)
    offline_m, offline_e = "\nTyped offline by Helena", " (Arjun, offline)"
    await node.call(
        "type",
        jobs=[
            {"client": "mentor", "at": "end", "text": offline_m},
            {"client": "mentee", "at": {"lineEnd": 1}, "text": offline_e},
        ],
    )
    assert offline_m not in (await node.call("state", client="mentee"))["text"]

    # A new process on the same port and data: the providers come back by themselves.
    second = await aiohttp_server(create_app(settings_for(tmp_path)), port=port)
    for client in ("mentor", "mentee"):
        back = await node.call(
            "waitStatus", client=client, connected=True, synced=True, timeoutMs=30000
        )
        assert back["closed"] is None
    text = (await node.call("converge", clients=["mentor", "mentee"]))["text"]
    assert_contiguous(text, before_m, before_e, offline_m, offline_e)
    assert len(HEADING.findall(text)) == 1, f"the document was duplicated:\n{text}"
    assert text.split("\n")[0].endswith(offline_e)
    stored = await rest_notes(second, demo.mentee.token, demo.meeting_id)
    assert stored == text

    # Presence comes back at once (the client moves its clock on and forgot the old peers),
    # not after the 15 s renewal.
    # (Deadlines well below the 15 s renewal, with room for a busy machine.)
    seen = await node.call("waitPeers", client="mentor", names=["Arjun Mehta"], timeoutMs=10000)
    assert seen["waitedMs"] < 10000
    await node.call("waitPeers", client="mentee", names=["Helena Costa"], timeoutMs=10000)


async def test_a_malformed_message_closes_for_good_and_the_client_stops_retrying(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver
) -> None:
    server = await aiohttp_server(create_app(settings_for(tmp_path)))
    demo = await seed_demo(server.app)
    await connect_pair(node, server, demo)
    await node.call("sendRaw", client="mentee", bytes=[9, 9, 9])  # no such message type
    closed = await node.call("waitClosed", client="mentee")
    assert closed["closed"]["code"] == 4400
    await node.call("sleep", ms=1200)  # longer than y-websocket's first backoffs
    state = await node.call("state", client="mentee")
    assert state["connected"] is False
    statuses = [
        e["status"] for e in node.events if e["event"] == "status" and e["client"] == "mentee"
    ]
    assert statuses.count("connected") == 1, statuses
    # The other person is not affected.
    await node.call("type", jobs=[{"client": "mentor", "at": "end", "text": "still here"}])

    async def stored() -> bool:
        return "still here" in await rest_notes(server, demo.mentor.token, demo.meeting_id)

    await eventually(stored, what="the mentor's edit at the server")


async def test_a_dropped_connection_leaves_and_comes_back(
    aiohttp_server: ServerFactory, tmp_path: Path, node: NodeDriver
) -> None:
    server = await aiohttp_server(create_app(settings_for(tmp_path)))
    demo = await seed_demo(server.app)
    await connect_pair(node, server, demo)
    await node.call("waitPeers", client="mentee", names=["Helena Costa"])
    await node.call("drop", client="mentor")  # a network cut: no close frame, no goodbye
    await node.call("waitPeers", client="mentee", absent=["Helena Costa"], timeoutMs=10000)
    await node.call("waitStatus", client="mentor", connected=True, synced=True)
    await node.call("waitPeers", client="mentee", names=["Helena Costa"], timeoutMs=10000)
