"""Zoom's writes that must happen once hold across processes sharing one database: a re-sent
event is stored once, a link code is used once, an event is claimed by one worker.

Each "process" is a connection of its own to the same database (SQLite's file, or this test's
PostgreSQL database with MENTOR_SIDECAR_TEST_DATABASE=postgresql), racing the other with
asyncio.gather; whatever the interleaving, the conditional writes decide.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from sidecar.db import Database, open_database
from sidecar.db.repositories import Repositories
from sidecar.domain.errors import NotFound
from tests.platform_settings import needs
from tests.test_zoom_support import meeting_ended, participant_event, zoom_settings
from zoom_app.migrations import MIGRATIONS
from zoom_app.store import ZoomStore

pytestmark = needs("zoom")
ROUNDS = 20


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[ZoomStore, ZoomStore, Database]]:
    """Two stores over two connections to one database (the first one migrates it)."""
    settings = zoom_settings(tmp_path).settings
    first = await open_database(settings, platform_migrations={"zoom": MIGRATIONS})
    second = await open_database(settings, platform_migrations={"zoom": MIGRATIONS})
    try:
        yield ZoomStore(first), ZoomStore(second), first
    finally:
        await second.close()
        await first.close()


async def test_an_event_sent_to_two_processes_at_once_is_stored_once(
    stores: tuple[ZoomStore, ZoomStore, Database],
) -> None:
    one, two, _ = stores
    for round_ in range(ROUNDS):
        body = meeting_ended("85746065432", f"instance-{round_}==")
        stored = await asyncio.gather(
            one.store_event("meeting.ended", body), two.store_event("meeting.ended", body)
        )
        assert sorted(stored) == [False, True], f"round {round_}: {stored}"
    claimed = await one.claim_events(limit=ROUNDS * 2)
    assert len(claimed) == ROUNDS


async def test_a_link_code_redeemed_twice_at_once_links_one(
    stores: tuple[ZoomStore, ZoomStore, Database],
) -> None:
    one, two, db = stores
    person = await Repositories.over(db).people.create(
        name="Ada", email="ada@example.org", timezone="UTC", locale="en"
    )
    for round_ in range(ROUNDS):
        code = f"AB{round_:02d}-CDEF"
        await one.create_link_code(person.id, code, timedelta(minutes=10))
        results = await asyncio.gather(
            one.redeem_link_code(code), two.redeem_link_code(code), return_exceptions=True
        )
        assert sorted(map(type, results), key=str) == sorted([str, NotFound], key=str), results
        assert person.id in results
    with pytest.raises(NotFound):  # used up, for a third try too
        await two.redeem_link_code("AB00-CDEF")


async def test_two_workers_claiming_at_once_split_the_events(
    stores: tuple[ZoomStore, ZoomStore, Database],
) -> None:
    one, two, _ = stores
    for n in range(ROUNDS):
        event = participant_event("joined", "85746065432", "u==", at=f"2026-11-25T10:{n:02d}:00Z")
        assert await one.store_event(event["event"], event)
    seen: list[int] = []
    while True:
        batches = await asyncio.gather(one.claim_events(limit=3), two.claim_events(limit=3))
        ids = [event.id for batch in batches for event in batch]
        if not ids:
            break
        seen += ids
    assert sorted(seen) == sorted(set(seen)), "an event was claimed by both workers"
    assert len(seen) == ROUNDS


async def test_a_claim_keeps_the_event_from_others_until_it_is_finished_or_failed(
    stores: tuple[ZoomStore, ZoomStore, Database],
) -> None:
    one, two, _ = stores
    assert await one.store_event("meeting.ended", meeting_ended("85746065432", "c=="))
    (mine,) = await one.claim_events()
    assert await two.claim_events() == []  # the other worker leaves it alone
    await one.fail_event(mine.id, "Zoom was slow")
    (again,) = await two.claim_events()  # a failed attempt lets it go, to be tried again
    assert (again.id, again.attempts) == (mine.id, 1)
    await two.finish_event(again.id, "done")
    assert await one.claim_events() == []


async def test_claims_a_stopping_worker_gives_back_are_the_next_workers_at_once(
    stores: tuple[ZoomStore, ZoomStore, Database],
) -> None:
    one, two, _ = stores
    for uuid in ("a==", "b=="):
        assert await one.store_event("meeting.ended", meeting_ended("85746065432", uuid))
    claimed = await one.claim_events()
    assert len(claimed) == 2 and await two.claim_events() == []
    await one.finish_event(claimed[0].id, "done")
    await one.release_events([e.id for e in claimed])  # the finished one stays finished
    assert [e.id for e in await two.claim_events()] == [claimed[1].id]
