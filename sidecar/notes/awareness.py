"""Who is in the room (names, cursors): the latest awareness state of each client.

The server does not interpret states; it keeps the newest per client id so that a newcomer sees
everyone at once, remembers which connection announced which client ids, and says they left
when that connection closes (y-websocket's reference server does the same).
"""

from __future__ import annotations

import json

from sidecar.notes.protocol import AwarenessEntry, ProtocolError, encode_awareness, parse_awareness

MAX_STATE_BYTES = 16 * 1024


class AwarenessRegistry:
    __slots__ = ("_entries", "_owner")  # one per open meeting

    def __init__(self) -> None:
        self._entries: dict[int, AwarenessEntry] = {}
        self._owner: dict[int, object] = {}

    def apply(self, update: bytes, connection: object) -> None:
        """Record an update from `connection`; raises ProtocolError for a malformed one."""
        for entry in parse_awareness(update):
            if len(entry.state_json) > MAX_STATE_BYTES:
                raise ProtocolError("awareness state too large")
            try:
                json.loads(entry.state_json)
            except ValueError as exc:
                raise ProtocolError("awareness state is not JSON") from exc
            known = self._entries.get(entry.client_id)
            # y-protocols' rule: only a newer clock, or a removal at the same clock, counts. Clients
            # re-broadcast the states they receive; an echo must not change who owns a client id.
            if known is not None and (
                entry.clock < known.clock
                or (entry.clock == known.clock and entry.state_json != "null")
            ):
                continue
            if entry.state_json == "null":
                self._entries.pop(entry.client_id, None)
                self._owner.pop(entry.client_id, None)
            else:
                self._entries[entry.client_id] = entry
                self._owner[entry.client_id] = connection

    def owner(self, client_id: int) -> object | None:
        """The connection (or marker) that announced this client id, if it is present."""
        return self._owner.get(client_id)

    def snapshot(self) -> bytes | None:
        """Everyone present, as one awareness update (None when nobody is)."""
        return encode_awareness(list(self._entries.values())) if self._entries else None

    def leave(self, connection: object) -> bytes | None:
        """Forget the clients of a closed connection; the update that tells the others."""
        gone = [cid for cid, owner in self._owner.items() if owner is connection]
        removed = []
        for client_id in gone:
            entry = self._entries.pop(client_id)
            del self._owner[client_id]
            # The stored clock, as the reference server does: a client that reconnects with
            # clock + 1 must count as newer than its own departure.
            removed.append(AwarenessEntry(client_id, entry.clock, "null"))
        return encode_awareness(removed) if removed else None
