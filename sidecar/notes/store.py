"""What rooms need from storage, and how far apart its commits are (`CommitPacing`).

`submit` queues an update and returns the future of the commit that will hold it; the room
relays the update only once that future is done, so a crash never loses an update anyone was
shown. Every update submitted before a commit starts shares that commit, and all of them share
one future. The stores themselves are storage (sidecar/db/notes/): SQLite's commits on the event
loop's own thread, PostgreSQL's on a connection of its own; `sidecar.db.notes.notes_store_for`
picks the one of the service's database.

How long commits are apart adapts to the load (`CommitPacing`): a few pairs typing are each
committed at once (on the loop's next turn, together with whatever arrived in the same turn or
while a commit ran), so a lone pair sees every keystroke without waiting; only under real load
are commits up to the commit window apart, so each holds more (and SQLite's store then sleeps
out the window instead of waking for each keystroke: `sidecar.db.notes.batch.CommitQueue`). A
commit has a cost of its own beside its rows' (the transaction, its locks, the log's header and
the pages its rows share), so under load a 20 ms window adds about 10 ms of latency on average
(nobody sees a keystroke 10 ms later) and saves CPU per edit at every load (bench/README.md,
runs G and H, 10 ms against 20: 108 and 66.5 us per edit at 50 meetings, 48.0 and 42.7 at 600,
where p99 was 43 and 34 ms).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

# Under full load, commits are this far apart (each then holds more updates); the service passes
# `notes_commit_window_ms`. 20 ms, not 10 (run H against run G, bench/README.md): less CPU per
# edit at every load and a lower p99 from 600 meetings, for a p50 of 11-19 ms instead of 6-8.
# See `CommitPacing` for how the wait follows the load.
DEFAULT_COMMIT_WINDOW_SECONDS = 0.020
# Meetings typing below which each commit starts at once (a few pairs, however fast each types),
# and from which commits are the whole window apart (bench/README.md, run G: at 50 meetings the
# rate-based 2.5 ms window cost 157 us per edit, the whole 10 ms window 91-108).
COMMIT_AT_ONCE_BELOW_MEETINGS = 10
FULL_WINDOW_FROM_MEETINGS = 40
# Meetings are counted per bucket of this many seconds.
BUCKET_SECONDS = 1.0


@dataclass(frozen=True)
class StoredNotes:
    updates: list[bytes]
    size: int  # bytes stored, snapshot included


class NotesStore(Protocol):
    """What rooms need from storage (SQLite's or PostgreSQL's, sidecar/db/notes/)."""

    async def load(self, meeting_id: str) -> StoredNotes: ...

    def submit(
        self, meeting_id: str, update: bytes, author: str | None
    ) -> asyncio.Future[None]: ...

    async def compact(self, meeting_id: str) -> int: ...


class RunningNotesStore(NotesStore, Protocol):
    """A store with its own connection: started after the database, stopped before it."""

    pacing: CommitPacing

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Commit whatever is queued, then close the connection."""
        ...


class CommitPacing:
    """How long the next commit waits after the last one, from how many meetings are typing.

    The load is the number of meetings with an update committed within the last second or so
    (counted per one-second bucket: the larger of the current bucket and the one before). A
    meeting is two people, so this is what grows with real load, while one pair typing in a
    burst (a thousand updates a second for a moment, as Yjs's own tests do) stays one meeting.
    The wait is

        0                                        below `at_once_below` meetings,
        max_window * (n - low) / (full - low)    in between,
        max_window                               from `full_from` up.

    At 0 a commit runs on the loop's next turn, with everything that arrived in the same turn
    (or while the previous commit ran): a lone pair is never held back, and a burst is still
    batched. Only real load pays the window, where it saves the most CPU per edit: each meeting
    typing 10 edits a second, 50 meetings make 500 a second, and a commit every 20 ms then holds
    ten of them instead of one or two.
    """

    __slots__ = (
        "_bucket_start",
        "_clock",
        "_previous",
        "_seen",
        "at_once_below",
        "full_from",
        "max_window",
    )

    def __init__(
        self,
        max_window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        at_once_below: int = COMMIT_AT_ONCE_BELOW_MEETINGS,
        full_from: int = FULL_WINDOW_FROM_MEETINGS,
    ) -> None:
        self.max_window = max_window
        self.at_once_below = at_once_below
        self.full_from = max(full_from, at_once_below + 1)
        self._clock = clock
        self._seen: set[str] = set()  # meetings committed in the current bucket
        self._previous = 0  # how many in the bucket before it
        self._bucket_start = clock()

    def _rotate(self, now: float) -> None:
        elapsed = now - self._bucket_start
        if elapsed >= BUCKET_SECONDS:
            self._previous = len(self._seen) if elapsed < 2 * BUCKET_SECONDS else 0
            self._seen = set()
            self._bucket_start = now

    def meetings(self) -> int:
        """Meetings typing lately."""
        self._rotate(self._clock())
        return max(len(self._seen), self._previous)

    def record(self, meeting_ids: Iterable[str]) -> None:
        """A commit held updates of these meetings (repeats allowed)."""
        self._rotate(self._clock())
        self._seen.update(meeting_ids)

    def window(self) -> float:
        """Seconds the next commit waits after the last one ended."""
        typing = self.meetings()
        if typing < self.at_once_below or self.max_window <= 0:
            return 0.0
        if typing >= self.full_from:
            return self.max_window
        low, full = self.at_once_below, self.full_from
        return self.max_window * (typing - low) / (full - low)
