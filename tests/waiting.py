"""Waiting for what a test needs to have happened, instead of sleeping and hoping.

A sleep that is long enough on an idle laptop is too short on a busy 2-core CI machine, and a
test that sleeps "so that nothing more arrives" proves nothing. These wait for the event itself,
with a deadline generous enough for a loaded machine (a deadline is a failure report, not a
measure of speed).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

from sidecar.db import Database

DEADLINE_SECONDS = 60.0


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    within: float = DEADLINE_SECONDS,
    what: str = "the condition",
    every: float = 0.02,
) -> None:
    """Poll `predicate` (plain or async) until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(every)


async def outbox_empty(db: Database, *, kind: str | None = None) -> None:
    """Wait until every queued message (of `kind`) has been sent.

    After this, a count at the SMTP server is final: nothing is queued that could still arrive.
    Call it once the action that queues mail has returned (ending a meeting queues its summaries
    in the same transaction).
    """

    async def empty() -> bool:
        sql = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
        unsent = await (
            db.fetch_value(sql + " AND kind = ?", (kind,)) if kind else db.fetch_value(sql)
        )
        return unsent == 0

    await eventually(empty, what=f"the outbox to send every {kind or ''} message")
