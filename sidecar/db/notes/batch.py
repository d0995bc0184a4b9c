"""What both notes stores share: the batch waiting for the next commit, and the merge that
compaction replaces a meeting's rows with."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from pycrdt import merge_updates

from sidecar.domain.ids import now_iso

log = logging.getLogger(__name__)

# Compactions (each merges a meeting's rows: about a millisecond) one commit runs at most, so
# rooms that started together and compact together do not hold up the loop at once.
MAX_COMPACTIONS_PER_COMMIT = 2

# (meeting id, update, author, created at): one row of note_updates.
Row = tuple[str, bytes, str | None, str]


class PendingCommit:
    """Everything waiting for the next commit: rows and compactions, in submission order."""

    __slots__ = ("compactions", "created_at", "done", "rows")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.created_at = now_iso()  # of every row in the batch (within milliseconds)
        self.rows: list[Row] = []
        # (number of rows submitted before it, meeting id, future of the stored size)
        self.compactions: list[tuple[int, str, asyncio.Future[int]]] = []
        self.done: asyncio.Future[None] = loop.create_future()

    def segments(self) -> list[tuple[list[Row], str | None]]:
        """The rows in order, cut where a compaction runs: (rows, then compact this meeting)."""
        cuts: list[tuple[list[Row], str | None]] = []
        done = 0
        for before, meeting_id, _ in self.compactions:
            cuts.append((self.rows[done:before], meeting_id))
            done = before
        if done < len(self.rows) or not cuts:
            cuts.append((self.rows[done:] if done else self.rows, None))
        return cuts

    def committed(self, sizes: Sequence[int]) -> None:
        if not self.done.done():
            self.done.set_result(None)
        for (_, _, future), size in zip(self.compactions, sizes, strict=True):
            if not future.done():
                future.set_result(size)

    def failed(self, exc: BaseException) -> None:
        # The rooms of these updates drop themselves and their clients resync.
        log.error("committing %d note update(s) failed: %r", len(self.rows), exc)
        if not self.done.done():
            self.done.set_exception(exc)
            self.done.exception()  # retrieved: a room with no one left to relay to may not look
        for _, _, future in self.compactions:
            if not future.done():
                future.set_exception(exc)


def merged(meeting_id: str, updates: Sequence[bytes]) -> bytes | None:
    """The stored updates of a meeting as one snapshot; None when they stay as they are (fewer
    than two, or a merge that failed: nothing has changed yet)."""
    if len(updates) < 2:
        return None
    try:
        return merge_updates(*updates)
    except Exception:
        log.exception("merging the notes of %s failed; the updates stay", meeting_id)
        return None
