"""Fuzzing the websocket endpoints: random, truncated and oversized y-websocket frames, wrong
message types, text where binary belongs, garbage inside well-formed envelopes, and floods.

Every bad frame must close only its own socket with a clear 4xxx/1009 code, never 1011 (server
error) or a dropped connection; the room, a watching client and the stored document must be
untouched; the process must keep serving. FUZZ_WS_ROUNDS raises the rounds for a long run.
The frames come from a seeded generator, so a failure names the seed and round that reproduce it.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.notes import protocol
from sidecar.settings import Settings
from tests.notes_client import NotesClient

ROUNDS = int(os.environ.get("FUZZ_WS_ROUNDS", "150"))
SEED = int(os.environ.get("FUZZ_WS_SEED", "20261124"))
MAX_MESSAGE = 4096
# What a refused frame may close with: malformed (4400), too large (1009 by aiohttp, 4413 for a
# document over its limit). Sending fast closes nothing: the socket is read more slowly.
REFUSALS = {4400, 4413, 1009}


def varuint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def valid_frames(rng: random.Random) -> list[bytes]:
    """Well-formed frames of every kind, as material to cut and corrupt."""
    noise = rng.randbytes(rng.randint(1, 40))
    return [
        protocol.sync_step1(b"\x01" + noise[:3]),
        protocol.sync_step2(noise),
        protocol.sync_update(noise),
        protocol.awareness(varuint(1) + varuint(rng.getrandbits(32)) + varuint(1) + b"\x02{}"),
    ]


def random_bytes(rng: random.Random) -> bytes | str:
    return rng.randbytes(rng.randint(0, 64))


def truncated(rng: random.Random) -> bytes | str:
    frame = rng.choice(valid_frames(rng))
    return frame[: rng.randint(0, max(0, len(frame) - 1))]


def garbage_in_envelope(rng: random.Random) -> bytes | str:
    """A well-formed sync or awareness envelope around random content."""
    junk = rng.randbytes(rng.randint(1, 200))
    kind = rng.randrange(4)
    if kind == 0:
        return protocol.sync_update(junk)
    if kind == 1:
        return protocol.sync_step2(junk)
    if kind == 2:
        return protocol.sync_step1(junk)
    return protocol.awareness(junk)


def wrong_type(rng: random.Random) -> bytes | str:
    message_type = rng.choice([2, 4, 7, 100, 127, 128, 2**20, 2**63])
    return varuint(message_type) + rng.randbytes(rng.randint(0, 16))


def wrong_step(rng: random.Random) -> bytes | str:
    return b"\x00" + varuint(rng.choice([3, 4, 99, 2**30])) + b"\x01\x00"


def huge_length(rng: random.Random) -> bytes | str:
    return b"\x00\x02" + varuint(rng.choice([2**31, 2**50, MAX_MESSAGE * 2])) + b"\x00"


def trailing_bytes(rng: random.Random) -> bytes | str:
    return protocol.sync_step1(b"\x00") + rng.randbytes(rng.randint(1, 8))


def text_frame(rng: random.Random) -> bytes | str:
    return rng.choice(["", "hello", "\x00\x01", "{}", "🙂" * 10])


def oversized(rng: random.Random) -> bytes | str:
    return protocol.sync_update(rng.randbytes(MAX_MESSAGE + rng.randint(1, 5000)))


Generator = Callable[[random.Random], bytes | str]
GENERATORS: list[Generator] = [
    random_bytes,
    truncated,
    garbage_in_envelope,
    wrong_type,
    wrong_step,
    huge_length,
    trailing_bytes,
    text_frame,
    oversized,
]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[TestServer, DemoSeed]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        notes_max_message_bytes=MAX_MESSAGE,
        websocket_messages_per_second=20,
    )
    server = TestServer(create_app(settings))
    await server.start_server()
    yield server, await seed_demo(server.app)
    await server.close()


@pytest.mark.usefixtures("notes_path")  # on both paths: see conftest
async def test_bad_frames_close_only_their_socket(
    service: tuple[TestServer, DemoSeed],
) -> None:
    server, seed = service
    base = f"ws://127.0.0.1:{server.port}/ws/notes/{seed.meeting_id}?token="
    watcher = await NotesClient(base + seed.mentor.token).connect()
    await asyncio.wait_for(watcher.synced.wait(), 30)
    await watcher.insert(len(str(watcher)), "baseline ")
    await watcher.round_trip()  # the server has it
    baseline = str(watcher)
    rng = random.Random(SEED)
    closes: dict[str, dict[int | None, int]] = {}
    async with aiohttp.ClientSession() as session:
        for round_ in range(ROUNDS):
            generator = rng.choice(GENERATORS)
            frame = generator(rng)
            where = f"seed {SEED}, round {round_}, {generator.__name__}: {frame!r:.80}"
            ws = await session.ws_connect(base + seed.mentee.token, max_msg_size=0)
            if isinstance(frame, str):
                await ws.send_str(frame)
            else:
                await ws.send_bytes(frame)
            code = await _close_code_or_open(ws)
            assert code != 1011, f"server error on {where}"
            assert code is None or code in REFUSALS, f"close {code} on {where}"
            if code is None:  # the frame was acceptable (e.g. an empty awareness update)
                await ws.close()
            counts = closes.setdefault(generator.__name__, {})
            counts[code] = counts.get(code, 0) + 1
    print(f"websocket fuzz: {ROUNDS} frames, close codes by kind: {closes}")
    # The watcher was never disturbed, and the stored document is the one it holds.
    assert watcher.close_code is None
    assert str(watcher) == baseline
    fresh = await NotesClient(base + seed.mentee.token).connect()
    await asyncio.wait_for(fresh.synced.wait(), 30)
    assert str(fresh) == baseline
    await fresh.insert(len(str(fresh)), "still editable")
    await watcher.wait_for(lambda: str(watcher).endswith("still editable"))
    for client in (watcher, fresh):
        await client.close()


async def _close_code_or_open(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """The close code the server sent, or None if the socket is still open after a while."""
    try:
        while True:
            message = await asyncio.wait_for(ws.receive(), 0.3)
            if message.type == aiohttp.WSMsgType.CLOSE:
                return int(message.data)  # the server's code, even if the reply could not go out
            if message.type == aiohttp.WSMsgType.CLOSED:
                return ws.close_code
            if message.type == aiohttp.WSMsgType.ERROR:
                return 1006
    except TimeoutError:
        return None


@pytest.mark.usefixtures("notes_path")  # on both paths: see conftest
async def test_a_flood_of_valid_messages_is_slowed_not_cut_off(
    service: tuple[TestServer, DemoSeed],
) -> None:
    server, seed = service
    base = f"ws://127.0.0.1:{server.port}/ws/notes/{seed.meeting_id}?token="
    watcher = await NotesClient(base + seed.mentor.token).connect()
    await asyncio.wait_for(watcher.synced.wait(), 30)
    flood = await NotesClient(base + seed.mentee.token).connect()
    await asyncio.wait_for(flood.synced.wait(), 30)
    for n in range(100):  # 20 a second allowed, bursts of 40: the rest waits its turn
        await flood.set_presence({"user": {"name": f"Flood {n}"}}, clock=n + 1)
    last = {"user": {"name": "Flood 99"}}
    await flood.wait_for(lambda: flood.awareness.get(flood.doc.client_id) == last)
    assert flood.close_code is None, "slowed down, not disconnected"
    await watcher.insert(0, "unharmed ")
    again = await NotesClient(base + seed.mentee.token).connect()
    await again.wait_for(lambda: str(again).startswith("unharmed "))
    for client in (watcher, again, flood):
        await client.close()


async def test_the_events_socket_refuses_bad_input(
    service: tuple[TestServer, DemoSeed],
) -> None:
    server, seed = service
    url = f"ws://127.0.0.1:{server.port}/ws/meetings/{seed.meeting_id}/events?token="
    rng = random.Random(SEED)
    async with aiohttp.ClientSession() as session:
        for _ in range(30):
            ws = await session.ws_connect(url + seed.mentor.token)
            await ws.receive_json()  # hello
            choice = rng.randrange(3)
            if choice == 0:
                await ws.send_bytes(rng.randbytes(rng.randint(0, 64)))
            elif choice == 1:
                await ws.send_str(rng.choice(["", "pong", "{", "ping" * 1000]))
            else:
                await ws.send_bytes(b"x" * 5000)  # over the socket's 1 KB limit
            code = await _close_code_or_open(ws)
            assert code != 1011 and code != 1006, code
            await ws.close()
        ws = await session.ws_connect(url + seed.mentor.token)
        await ws.receive_json()
        await ws.send_str("ping")
        assert (await ws.receive_json())["type"] == "pong"
        await ws.close()
