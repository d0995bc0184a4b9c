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
commit costs about as much for one row as for three, so at thousands of edits per second a 10 ms
window halves the server's CPU per edit, for about 5 ms more latency on average
(bench/README.md).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Under full load, commits are this far apart (each then holds more updates); the service passes
# `notes_commit_window_ms`. See `CommitPacing` for how the wait follows the load.
DEFAULT_COMMIT_WINDOW_SECONDS = 0.010
# Updates a second below which each commit starts at once (up to 40 pairs typing 5 edits a
# second each, or one pair typing in bursts: about 330), and from which commits are the whole
# window apart (80 meetings typing). At 100 meetings (1,000 updates a second) the whole window
# costs a third less CPU per edit than half of it (bench/README.md, run G).
COMMIT_AT_ONCE_BELOW_RATE = 400.0
FULL_WINDOW_FROM_RATE = 800.0
# How far back the rate looks: the time constant of its exponential moving average, in seconds.
RATE_TIME_CONSTANT_SECONDS = 1.0


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
    """How long the next commit waits after the last one, from the recent rate of updates.

    The rate is an exponentially weighted moving average of updates per second: each commit
    adds its rows / `time_constant`, and the sum decays by e^(-elapsed / time_constant), so a
    steady r updates a second reads r, and a short burst from one pair (a few hundred updates
    in half a second) moves it little. The wait is

        0                                       below `at_once_below` updates a second,
        max_window * (rate - low) / (full - low) in between,
        max_window                              from `full_from` up.

    At 0 a commit runs on the loop's next turn, with everything that arrived in the same turn
    (or while the previous commit ran): a lone pair is never held back, and a burst is still
    batched. Only real load (thousands of updates a second) pays the whole window, where it
    saves the most CPU per edit.
    """

    __slots__ = ("_clock", "_rate", "_stamp", "at_once_below", "full_from", "max_window", "tau")

    def __init__(
        self,
        max_window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        at_once_below: float = COMMIT_AT_ONCE_BELOW_RATE,
        full_from: float = FULL_WINDOW_FROM_RATE,
        time_constant: float = RATE_TIME_CONSTANT_SECONDS,
    ) -> None:
        self.max_window = max_window
        self.at_once_below = at_once_below
        self.full_from = max(full_from, at_once_below)
        self.tau = time_constant
        self._clock = clock
        self._rate = 0.0
        self._stamp = clock()

    def rate(self) -> float:
        """Updates a second lately (decayed to now)."""
        return self._rate * math.exp(-(self._clock() - self._stamp) / self.tau)

    def record(self, updates: int) -> None:
        """A commit held this many updates."""
        now = self._clock()
        decayed = self._rate * math.exp(-(now - self._stamp) / self.tau)
        self._rate = decayed + updates / self.tau
        self._stamp = now

    def window(self) -> float:
        """Seconds the next commit waits after the last one ended."""
        rate = self.rate()
        if rate < self.at_once_below or self.max_window <= 0:
            return 0.0
        if rate >= self.full_from:
            return self.max_window
        return self.max_window * (rate - self.at_once_below) / (self.full_from - self.at_once_below)
