"""The y-websocket wire format, strictly parsed.

A frame is one message: `[varuint type]` then, for SYNC (0), `[varuint step][varuint len][bytes]`,
for AWARENESS (1), `[varuint len][bytes]`. Anything else, or trailing bytes, is a ProtocolError.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncStep(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class ProtocolError(Exception):
    """The frame is not a well-formed y-websocket message."""


@dataclass(frozen=True)
class SyncMessage:
    step: SyncStep
    payload: bytes  # a state vector for STEP1, an update otherwise


@dataclass(frozen=True)
class AwarenessMessage:
    update: bytes


@dataclass(frozen=True)
class QueryAwareness:
    pass


Message = SyncMessage | AwarenessMessage | QueryAwareness

EMPTY_UPDATE = b"\x00\x00"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        value, shift = 0, 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated number")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 56:
                raise ProtocolError("number too large")

    def bytes_(self) -> bytes:
        length = self.varuint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("truncated payload")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def string(self) -> str:
        try:
            return self.bytes_().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("invalid UTF-8") from exc

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("trailing bytes after the message")


def parse(frame: bytes) -> Message:
    reader = _Reader(frame)
    kind = reader.varuint()
    if kind == MessageType.SYNC:
        step = reader.varuint()
        if step not in (SyncStep.STEP1, SyncStep.STEP2, SyncStep.UPDATE):
            raise ProtocolError(f"unknown sync step {step}")
        payload = reader.bytes_()
        reader.end()
        return SyncMessage(SyncStep(step), payload)
    if kind == MessageType.AWARENESS:
        update = reader.bytes_()
        reader.end()
        return AwarenessMessage(update)
    if kind == MessageType.QUERY_AWARENESS:
        reader.end()
        return QueryAwareness()
    raise ProtocolError(f"unsupported message type {kind}")


def is_update_frame(frame: bytes) -> bool:
    """SYNC, then STEP2 or UPDATE, then a non-empty length: what `sync_payload` takes."""
    return len(frame) > 2 and frame[0] == 0 and (frame[1] == 2 or frame[1] == 1)


def sync_payload(frame: bytes) -> bytes:
    """The update in a frame already known to start with SYNC and STEP2 or UPDATE (the hot path).

    As strict as `parse`: the length must match the rest of the frame exactly.
    """
    length = frame[2]
    start = 3
    if length >= 0x80:
        reader = _Reader(frame)
        reader.pos = 2
        length = reader.varuint()
        start = reader.pos
    end = start + length
    if end != len(frame):
        raise ProtocolError(
            "truncated payload" if end > len(frame) else "trailing bytes after the message"
        )
    return frame[start:]


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state_json: str  # "null" when the client left


def parse_awareness(update: bytes) -> list[AwarenessEntry]:
    reader = _Reader(update)
    entries = [
        AwarenessEntry(reader.varuint(), reader.varuint(), reader.string())
        for _ in range(reader.varuint())
    ]
    reader.end()
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    out = bytearray(_varuint(len(entries)))
    for entry in entries:
        state = entry.state_json.encode()
        out += _varuint(entry.client_id) + _varuint(entry.clock) + _varuint(len(state)) + state
    return bytes(out)


def _varuint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _frame(prefix: bytes, payload: bytes) -> bytes:
    return prefix + _varuint(len(payload)) + payload


def sync_step1(state_vector: bytes) -> bytes:
    return _frame(b"\x00\x00", state_vector)


def sync_step2(update: bytes) -> bytes:
    return _frame(b"\x00\x01", update)


def sync_update(update: bytes) -> bytes:
    return _frame(b"\x00\x02", update)


def awareness(update: bytes) -> bytes:
    return _frame(b"\x01", update)
