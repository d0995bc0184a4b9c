"""What both notes stores share: the batch waiting for the next commit, the queue that fills it
(`CommitQueue`), and the merge that compaction replaces a meeting's rows with."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence

from pycrdt import merge_updates

from sidecar.domain.ids import now_iso
from sidecar.notes.store import (
    COMMIT_AT_ONCE_BELOW_MEETINGS,
    FULL_WINDOW_FROM_MEETINGS,
    CommitPacing,
)

log = logging.getLogger(__name__)

# Compactions (each merges a meeting's rows: about a millisecond) one commit runs at most, so
# rooms that started together and compact together do not hold up the loop at once.
MAX_COMPACTIONS_PER_COMMIT = 2

# Meetings typing from which a store that coalesces reads goes back to a timer (see
# CommitQueue): by then a window holds enough keystrokes that the wake-ups matter less, and
# reading them all after the sleep lengthened each cycle (run G in bench/README.md: p99 40 ms
# at 500 meetings and 63 at 600, against 34 and 50 with the timer on a slower day, run F).
COALESCE_BELOW_MEETINGS = 400

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


class CommitQueue:
    """The submitting side of a group-committing notes store: updates and compactions wait in
    one `PendingCommit`, whose commit (`_flush`, the backend's) is scheduled after the pacing's
    window. A backend says when a commit may be scheduled now (`_may_schedule`) and when a
    full batch may be committed at once (`_may_flush_now`).

    A backend whose commit runs on the loop's own thread (SQLite's) sets `coalesce_reads`: under
    load, the wait before a commit is slept out on the loop's thread rather than spent polling,
    and the commit runs after the next poll (`_sleep_then_flush`). Nothing is relayed before its
    commit anyway, so reading each keystroke the moment it arrives only wakes the process once
    per keystroke; after the sleep one poll reads every socket that has data, and the process
    wakes once per commit instead (a third less CPU per edit at 1,000 updates a second, the same
    latency: bench/README.md). The loop is then busy or asleep for at most the commit window
    (`MENTOR_SIDECAR_NOTES_COMMIT_WINDOW_MS`) at a time, so anything else it serves waits at most
    as long; below `CommitPacing.at_once_below` meetings the window is 0 and nothing sleeps, and
    from `COALESCE_BELOW_MEETINGS` up the wait is a timer again.
    """

    coalesce_reads = False
    # Meetings typing below which commits start at once, and from which they wait the whole
    # window (`CommitPacing`); a backend may set its own.
    at_once_below_meetings = COMMIT_AT_ONCE_BELOW_MEETINGS
    full_window_from_meetings = FULL_WINDOW_FROM_MEETINGS

    def __init__(
        self,
        commit_window_seconds: float,
        max_batch: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.pacing = CommitPacing(
            commit_window_seconds,
            clock=clock,
            at_once_below=self.at_once_below_meetings,
            full_from=self.full_window_from_meetings,
        )
        self._max_batch = max_batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch: PendingCommit | None = None
        self._scheduled: asyncio.Handle | None = None
        self._last_commit = 0.0
        self._compactions: deque[tuple[str, asyncio.Future[int]]] = deque()

    def _running(self) -> bool:
        raise NotImplementedError

    def _may_schedule(self) -> bool:
        return True

    def _may_flush_now(self) -> bool:
        return True

    def _flush(self) -> None:
        raise NotImplementedError

    def _pending(self) -> PendingCommit:
        loop = self._loop
        if loop is None or not self._running():
            raise RuntimeError("notes store is not running")
        batch = self._batch
        if batch is None:
            batch = self._batch = PendingCommit(loop)
        if self._scheduled is None and self._may_schedule():
            wait = self._last_commit + self.pacing.window() - self._clock()
            if wait <= 0:
                self._scheduled = loop.call_soon(self._flush)
            elif self.coalesce_reads and self.pacing.meetings() < COALESCE_BELOW_MEETINGS:
                self._scheduled = loop.call_soon(self._sleep_then_flush)
            else:
                self._scheduled = loop.call_later(wait, self._flush)
        return batch

    def _sleep_then_flush(self) -> None:
        """Sleep out the window (see the class), then commit once the loop has polled again.

        The commit is scheduled, not run here: the loop's next turn polls first and hands every
        frame that arrived meanwhile to the batch, so they share this commit.
        """
        loop = self._loop
        if loop is None or not self._running():
            self._scheduled = None
            return
        wait = self._last_commit + self.pacing.window() - self._clock()
        if wait > 0:
            self._sleep(min(wait, self.pacing.max_window))
        self._scheduled = loop.call_soon(self._flush)

    def submit(self, meeting_id: str, update: bytes, author: str | None) -> asyncio.Future[None]:
        batch = self._pending()
        batch.rows.append((meeting_id, update, author, batch.created_at))
        if len(batch.rows) >= self._max_batch and self._may_flush_now():
            self._flush()
        return batch.done

    async def compact(self, meeting_id: str) -> int:
        """Merge a meeting's stored updates into one row, in a coming commit; the size stored.

        It runs at the end of that commit, after the commit's own rows, so it merges everything
        stored so far (a commit window holds several keystrokes of the meeting). A commit takes
        at most `MAX_COMPACTIONS_PER_COMMIT`.
        """
        batch = self._pending()
        size: asyncio.Future[int] = batch.done.get_loop().create_future()
        self._compactions.append((meeting_id, size))
        return await size
