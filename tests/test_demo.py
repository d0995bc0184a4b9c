"""The demo seed, in-process on the test's backend (tests/test_cli.py runs `demo` as a process)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.demo import seed_demo


async def test_seeding_again_finds_the_same_pair_and_meeting(
    client: TestClient[web.Request, web.Application],
) -> None:
    first = await seed_demo(client.app)
    again = await seed_demo(client.app)
    assert (again.mentorship_id, again.meeting_id) == (first.mentorship_id, first.meeting_id)
    assert (again.mentor.id, again.mentee.id) == (first.mentor.id, first.mentee.id)
    assert again.mentor.token != first.mentor.token, "fresh sign-in details each time"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {again.mentee.token}"})
    assert me.status == 200
    assert [m["id"] for m in (await me.json())["mentorships"]] == [first.mentorship_id]
