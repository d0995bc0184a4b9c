"""Rate limits and quotas: each is a documented setting, each answers 429 with Retry-After and a
JSON error naming the quota, and each leaves alone what was already accepted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.app import create_app
from sidecar.keys import SETTINGS
from sidecar.limits import QUOTAS, LocalRateLimiter, TokenBucket
from sidecar.settings import Settings
from tests.conftest import make_pair, tiny_png

Client = TestClient[web.Request, web.Application]


def profile(n: int) -> dict[str, Any]:
    return {"name": f"Person {n}", "email": f"p{n}@example.org", "timezone": "Europe/Paris"}


@pytest.fixture
async def limited(aiohttp_client: Any, tmp_path: Path) -> Client:
    settings = Settings(
        data_dir=tmp_path / "data",
        signups_per_hour=2,
        invites_per_day=1,
        uploads_per_hour=1,
        trust_forwarded_headers=True,
    )
    client: Client = await aiohttp_client(create_app(settings))
    return client


def assert_limited(response_status: int, body: dict[str, Any], headers: Any, quota: str) -> None:
    assert response_status == 429
    assert body["error"]["status"] == 429
    assert body["error"]["message"].startswith(f"{quota}:")
    assert int(headers["Retry-After"]) >= 1


async def test_signups_are_limited_per_address(limited: Client) -> None:
    def start(n: int, address: str) -> Any:
        return limited.post(
            "/api/v1/mentorships",
            json={"title": f"M{n}", "role": "mentee", "me": profile(n)},
            headers={"X-Forwarded-For": f"{address}, 10.0.0.1"},
        )

    for n in range(2):
        assert (await start(n, "203.0.113.7")).status == 201
    refused = await start(3, "203.0.113.7")
    assert_limited(refused.status, await refused.json(), refused.headers, "signup")
    # Another address is not affected, and what was accepted stays.
    assert (await start(4, "198.51.100.2")).status == 201


async def test_invites_and_uploads_are_limited_per_person(limited: Client) -> None:
    response = await limited.post(
        "/api/v1/mentorships",
        json={"title": "Half a pair", "role": "mentor", "me": profile(1)},
        headers={"X-Forwarded-For": "192.0.2.1"},
    )
    token = (await response.json())["token"]
    mentorship_id = (await response.json())["mentorship"]["id"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        await limited.post(f"/api/v1/mentorships/{mentorship_id}/invites", headers=auth)
    ).status == 201
    refused = await limited.post(f"/api/v1/mentorships/{mentorship_id}/invites", headers=auth)
    assert_limited(refused.status, await refused.json(), refused.headers, "invite")

    photo = {**auth, "Content-Type": "image/png"}
    assert (await limited.put("/api/v1/me/photo", data=tiny_png(), headers=photo)).status == 200
    refused = await limited.put("/api/v1/me/photo", data=tiny_png("red"), headers=photo)
    assert_limited(refused.status, await refused.json(), refused.headers, "upload")
    # The photo accepted first is still the one served.
    me = await (await limited.get("/api/v1/me", headers=auth)).json()
    assert me["person"]["photo_updated_at"] is not None

    other = await make_pair(limited.app, "Other")  # another person has their own quota
    assert (
        await limited.put(
            "/api/v1/me/photo",
            data=tiny_png(),
            headers={**other.auth(), "Content-Type": "image/png"},
        )
    ).status == 200


async def test_the_forwarded_address_is_ignored_without_a_trusted_proxy(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client: Client = await aiohttp_client(
        create_app(Settings(data_dir=tmp_path / "data", signups_per_hour=1))
    )
    for n, address in enumerate(["203.0.113.1", "203.0.113.2"]):
        response = await client.post(
            "/api/v1/mentorships",
            json={"title": f"M{n}", "role": "mentee", "me": profile(n)},
            headers={"X-Forwarded-For": address},  # spoofed: one real address behind both
        )
    assert response.status == 429


def test_a_bucket_refills_over_its_window() -> None:
    now = [0.0]
    bucket = TokenBucket(2, 2 / 3600, clock=lambda: now[0])
    assert bucket.take() == 0 and bucket.take() == 0
    assert bucket.take() == pytest.approx(1800)
    now[0] = 1800
    assert bucket.take() == 0


async def test_idle_keys_are_forgotten() -> None:
    now = [0.0]
    limiter = LocalRateLimiter(clock=lambda: now[0], max_keys=10)
    for n in range(10):
        await limiter.hit(f"k{n}", 5, 60)
    now[0] = 120  # every bucket has refilled
    await limiter.hit("new", 5, 60)
    assert len(limiter) == 1


def test_every_quota_is_a_documented_setting() -> None:
    fields = set(Settings.model_fields)
    for quota in QUOTAS.values():
        assert quota.setting in fields


async def test_a_bucket_over_its_budget_waits_for_the_next_token() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # the clock moves on by what was slept
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2, 4, clock=lambda: now[0])  # bursts of 2, 4 a second
    await bucket.wait(sleep)
    await bucket.wait(sleep)
    assert slept == [], "within the burst nothing waits"
    await bucket.wait(sleep)
    assert slept == [0.25], "then one token's time"
    now[0] += 10  # a long pause refills the burst, no more
    for _ in range(3):
        await bucket.wait(sleep)
    assert slept == [0.25, 0.25]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often a socket handler had to wait for its budget (`TokenBucket.wait`)."""
    count = [0]
    real = TokenBucket.wait

    async def counted(self: TokenBucket, *args: Any) -> None:
        count[0] += 1
        await real(self, *args)

    monkeypatch.setattr(TokenBucket, "wait", counted)
    return count


async def test_a_flooding_websocket_is_slowed_and_the_room_keeps_going(
    tmp_path: Path, waits: list[int]
) -> None:
    from aiohttp.test_utils import TestServer

    from sidecar.demo import seed_demo
    from tests.notes_client import NotesClient

    server = TestServer(
        create_app(Settings(data_dir=tmp_path / "data", websocket_messages_per_second=20))
    )
    await server.start_server()
    try:
        seed = await seed_demo(server.app)
        base = f"ws://127.0.0.1:{server.port}/ws/notes/{seed.meeting_id}?token="
        calm = await NotesClient(base + seed.mentee.token).connect()
        flood = await NotesClient(base + seed.mentor.token).connect()
        await asyncio.wait_for(asyncio.gather(calm.synced.wait(), flood.synced.wait()), 30)
        await flood.insert(0, "kept ")
        await calm.wait_for(lambda: "kept" in str(calm))
        for n in range(80):  # twice the burst of 40: the rest waits for the budget
            await flood.insert(0, f"{n} ")
        await calm.insert(0, "still here ")
        await calm.wait_for(lambda: "79 " in str(calm))  # the flooder's last edit arrived
        await flood.wait_for(lambda: "still here" in str(flood))
        assert str(flood) == str(calm)
        assert waits[0] > 0, "the flooder was held back"
        assert flood.close_code is None and calm.close_code is None, "nobody was disconnected"
        later = await NotesClient(base + seed.mentor.token).connect()
        await later.wait_for(lambda: str(later) == str(calm))
        for client in (calm, flood, later):
            await client.close()
    finally:
        await server.close()


async def test_a_flooding_events_socket_is_slowed_not_closed(
    client: Client, waits: list[int]
) -> None:
    pair = await make_pair(client.app, "Flood")
    ws = await client.ws_connect(
        f"/ws/meetings/{pair.meeting_id}/events?token={pair.mentor_token}",
        headers={"Origin": str(client.make_url("")).rstrip("/")},
    )
    await ws.receive_json()  # hello
    burst = 2 * client.app[SETTINGS].websocket_messages_per_second
    for _ in range(burst + 100):
        await ws.send_str("ping")
    for _ in range(burst + 100):
        assert await asyncio.wait_for(ws.receive_json(), 30) == {"type": "pong"}
    assert not ws.closed
    assert waits[0] > 0, "past its burst the socket was read more slowly"
    await ws.close()
