"""Update frames taken as aiohttp parses them (sidecar/notes/direct.py), and what still is not."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from pycrdt import Doc, Text

from sidecar.limits import TokenBucket
from sidecar.notes import protocol
from sidecar.notes.direct import NotesWebSocket
from tests import test_notes
from tests.test_notes import Start

start = test_notes.start  # a real service on a real SQLite file, real sockets
# Each test on the fast path and on the public one (an aiohttp the fast path was not tested
# with): the same frames reach the handler in the same order, only more of them.
pytestmark = pytest.mark.usefixtures("notes_path")


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch, notes_path: str) -> Counter[str]:
    """Messages that reached the socket handler through `receive()`, by kind."""
    seen: Counter[str] = Counter()
    receive = NotesWebSocket.receive

    async def counting(self: NotesWebSocket, *args: Any) -> Any:
        assert self.direct == (notes_path == "fast"), "the path aiohttp_gate chose"
        message = await receive(self, *args)
        data = message.data
        is_update = isinstance(data, bytes) and protocol.is_update_frame(data)
        seen["update" if is_update else "other"] += 1
        return message

    monkeypatch.setattr(NotesWebSocket, "receive", counting)
    return seen


async def test_typing_does_not_wake_the_handler_per_keystroke(
    start: Start, handled: Counter[str], notes_path: str
) -> None:
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    for client in (mentor, mentee):
        await client.round_trip()  # the sync answers are in
    handled.clear()
    for i in range(40):
        await mentor.insert(len(str(mentor)), f"{i},")
        await mentee.wait_for(lambda i=i: str(mentee).endswith(f"{i},"))
    assert str(mentee) == str(mentor)
    if notes_path == "fast":
        assert handled["update"] == 0, "each keystroke went straight to the room"
    else:
        assert handled["update"] == 40, "on the public path every keystroke goes via receive()"
    await mentor.close()
    await mentee.close()


async def test_frames_in_one_read_keep_their_order(start: Start, handled: Counter[str]) -> None:
    """A step 1 waits for the handler; the updates behind it in the same read wait behind it,
    and its answer holds nothing they would make it contradict."""
    service = await start()
    mentor, mentee = await service.client("mentor"), await service.client("mentee")
    for client in (mentor, mentee):
        await client.round_trip()
    handled.clear()
    doc: Doc[Text] = Doc()
    doc.apply_update(mentor.doc.get_update())
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    text = doc.get("notes", type=Text)
    for word in ("one ", "two ", "three "):
        text.insert(len(str(text)), word)
    frames = [protocol.sync_step1(mentor.doc.get_state())]
    frames += [protocol.sync_update(update) for update in updates]
    # All in one websocket write burst: the client and the server share this event loop, so
    # every frame is written before the server reads, and aiohttp parses them in one go.
    await asyncio.gather(*(mentor.send_raw(frame) for frame in frames))
    await mentee.wait_for(lambda: str(mentee).endswith("one two three "))
    assert handled["other"] == 1, "the step 1 reached the handler"
    assert handled["update"] == 3, "the updates behind it kept their place in the queue"
    await mentor.close()
    await mentee.close()


async def test_a_bad_update_is_handled_as_before(start: Start, handled: Counter[str]) -> None:
    service = await start()
    good, bad = await service.client("mentor"), await service.client("mentee")
    for client in (good, bad):
        await client.round_trip()
    handled.clear()
    await bad.send_raw(b"\x00\x02\x03\xff\xff\xff")  # an update frame whose update is invalid
    await bad.wait_closed()
    assert bad.close_code == 4400 and "invalid update" in bad.close_reason
    assert handled["update"] == 1, "left to the handler, which closed the socket"
    await good.insert(len(str(good)), "still here")
    fresh = await service.client("mentee")
    assert str(fresh).endswith("still here")
    await good.close()
    await fresh.close()


async def test_a_sender_over_its_budget_is_slowed_not_closed(
    start: Start, handled: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over its allowance, frames are no longer taken directly: the handler waits for the
    budget (`TokenBucket.wait`) before reading on, and every frame lands, in order."""
    waits = Counter[str]()
    real_wait = TokenBucket.wait

    async def counted(self: TokenBucket) -> None:
        waits["wait"] += 1
        await real_wait(self)

    monkeypatch.setattr(TokenBucket, "wait", counted)
    service = await start(websocket_messages_per_second=20)  # bursts of 40
    flooder, peer = await service.client("mentor"), await service.client("mentee")
    for i in range(80):
        await flooder.insert(len(str(flooder)), f"{i},")
    await peer.wait_for(lambda: str(peer) == str(flooder))
    assert flooder.close_code is None and peer.close_code is None
    assert waits["wait"] > 0, "the sender was held back"
    assert handled["update"] > 0, "frames over the budget went through the handler"
    for client in (flooder, peer):
        await client.close()
