"""A meeting's live notes between instances: `mentor-sidecar:{meeting_id}:notes`.

Each message is the publishing instance's id, then y-websocket frames (committed update frames,
or awareness frames), each after its length as 4 bytes, big-endian: the frames of one commit go
out as one message. The receiving instance applies them to its room of the meeting (never
committing them again: they are stored already) and relays them to its own sockets.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Sequence
from typing import Protocol

from sidecar.relay.redis_relay import RedisRelay, notes_channel

_LENGTH = struct.Struct("!I")


class RemoteNotes(Protocol):
    """What receives the other instances' notes (sidecar.notes.room.Rooms)."""

    def take_remote(self, meeting_id: str, frames: list[bytes]) -> None: ...

    def resync(self) -> Awaitable[None]: ...


def pack(frames: Sequence[bytes]) -> bytes:
    return b"".join([_LENGTH.pack(len(f)) + f for f in frames])


def unpack(body: bytes) -> list[bytes]:
    frames, at, end = [], 0, len(body)
    while at < end:
        (length,) = _LENGTH.unpack_from(body, at)
        at += 4
        if at + length > end:
            raise ValueError("a truncated notes message from another instance")
        frames.append(body[at : at + length])
        at += length
    return frames


class NotesRelay:
    """`sidecar.notes.fanout.MeetingRelay` over Redis."""

    def __init__(self, relay: RedisRelay) -> None:
        self.relay = relay
        self._rooms: RemoteNotes | None = None

    def attach(self, rooms: RemoteNotes) -> None:
        """Where the others' messages go; the rooms resync after a Redis loss."""
        self._rooms = rooms
        self.relay.on_resync(rooms.resync)

    def publish(self, meeting_id: str, frames: Sequence[bytes]) -> None:
        self.relay.publish(notes_channel(meeting_id), pack(frames))

    async def watch(self, meeting_id: str) -> None:
        def received(body: bytes) -> None:
            if self._rooms is not None:
                self._rooms.take_remote(meeting_id, unpack(body))

        await self.relay.watch(notes_channel(meeting_id), received)

    def unwatch(self, meeting_id: str) -> None:
        self.relay.unwatch(notes_channel(meeting_id))
