"""Quotas and websocket budgets shared by two instances through one real Redis and one real
PostgreSQL (issue 17): spread over both, a limit is reached at the same count as on one
instance; with Redis stopped each instance goes on alone on its own counts (logged once), and
shares them again once Redis is back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.app import create_app
from sidecar.keys import RATE_LIMITER, SOCKET_BUDGET
from sidecar.limits_redis import RedisRateLimiter, RedisSocketBudget, redis_client
from sidecar.settings import Settings
from tests.conftest import Pair, make_pair
from tests.redis_server import RedisServer

Client = TestClient[web.Request, web.Application]
DEADLINE_SECONDS = 30.0  # bounds waiting for an event; not a timed assertion

LIMITS: dict[str, Any] = {
    "signin_requests_per_hour": 4,
    "signin_requests_per_email_per_hour": 3,
    "invites_per_day": 3,
    "websockets_per_person": 3,
    "websockets_per_meeting": 5,
    "trust_forwarded_headers": True,
}


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(0.01)  # polling a condition, with a deadline


@pytest.fixture
async def instances(
    postgres_url: str, redis_url: str, aiohttp_client: Any, tmp_path: Path
) -> tuple[Client, Client]:
    """Two instances of the service on one PostgreSQL database and one Redis (those two
    first: the apps are closed before their database is dropped)."""
    clients = []
    for name in ("a", "b"):
        settings = Settings(
            data_dir=tmp_path / name, database_url=postgres_url, redis_url=redis_url, **LIMITS
        )
        clients.append(await aiohttp_client(create_app(settings)))
    return clients[0], clients[1]


@pytest.fixture
async def alone(aiohttp_client: Any, tmp_path: Path) -> Client:
    """One instance as without Redis: the in-memory limits of one process."""
    client: Client = await aiohttp_client(create_app(Settings(data_dir=tmp_path / "one", **LIMITS)))
    return client


async def ask(client: Client, email: str, via: str) -> int:
    response = await client.post(
        "/api/v1/signin-requests", json={"email": email}, headers={"X-Forwarded-For": via}
    )
    return response.status


async def refused_at(
    clients: list[Client], email: Callable[[int], str], via: Callable[[int], str]
) -> int:
    """Ask over the clients in turn: the number of the first request refused (1-based)."""
    for n in range(20):
        status = await ask(clients[n % len(clients)], email(n), via(n))
        if status == 429:
            return n + 1
        assert status == 202, status
    raise AssertionError("never refused")


async def test_signin_requests_over_two_instances_stop_at_the_count_of_one(
    instances: tuple[Client, Client], alone: Client
) -> None:
    a, b = instances

    def each(n: int) -> str:
        return f"p{n}@example.org"

    def one_address(n: int) -> str:
        return "198.51.100.1"

    def another_address(n: int) -> str:
        return f"192.0.2.{n}"

    per_address = await refused_at([alone], each, one_address)
    assert per_address == LIMITS["signin_requests_per_hour"] + 1
    assert await refused_at([a, b], each, one_address) == per_address
    # 4 an hour: the next request in about a quarter of an hour, on either instance.
    for client in (a, b):
        refused = await client.post(
            "/api/v1/signin-requests",
            json={"email": "x@example.org"},
            headers={"X-Forwarded-For": "198.51.100.1"},
        )
        assert refused.status == 429
        assert 800 <= int(refused.headers["Retry-After"]) <= 900

    def one_inbox(n: int) -> str:
        return "Target@example.org" if n % 2 else "target@EXAMPLE.org"

    per_email = await refused_at([alone], one_inbox, another_address)
    assert per_email == LIMITS["signin_requests_per_email_per_hour"] + 1
    assert await refused_at([b, a], one_inbox, another_address) == per_email
    # What another address or inbox may do is untouched, on either instance.
    assert await ask(a, "other@example.org", "203.0.113.9") == 202
    assert await ask(b, "other@example.org", "203.0.113.9") == 202


async def half_pair(client: Client, n: int) -> tuple[str, dict[str, str]]:
    """A mentorship started by its mentor, waiting for a mentee: its id and the mentor's auth."""
    response = await client.post(
        "/api/v1/mentorships",
        json={
            "title": f"Half a pair {n}",
            "role": "mentor",
            "me": {"name": f"Mentor {n}", "email": f"m{n}@example.org", "timezone": "UTC"},
        },
        headers={"X-Forwarded-For": f"192.0.2.{n}"},
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    return body["mentorship"]["id"], {"Authorization": f"Bearer {body['token']}"}


async def test_an_api_quota_is_one_over_both_instances(instances: tuple[Client, Client]) -> None:
    a, b = instances
    mentorship_id, auth = await half_pair(a, 1)
    path = f"/api/v1/mentorships/{mentorship_id}/invites"
    limit = LIMITS["invites_per_day"]
    statuses = [(await (a, b)[n % 2].post(path, headers=auth)).status for n in range(limit)]
    assert statuses == [201] * limit
    for client in (a, b):
        refused = await client.post(path, headers=auth)
        assert refused.status == 429
        body = await refused.json()
        assert body["error"]["message"].startswith("invite:")
        assert int(refused.headers["Retry-After"]) >= 1
    # Another person's quota is their own.
    other_id, other_auth = await half_pair(b, 2)
    assert (
        await a.post(f"/api/v1/mentorships/{other_id}/invites", headers=other_auth)
    ).status == 201


def budget_of(client: Client) -> RedisSocketBudget:
    budget = client.app[SOCKET_BUDGET]
    assert isinstance(budget, RedisSocketBudget)
    return budget


def limiter_of(client: Client) -> RedisRateLimiter:
    limiter = client.app[RATE_LIMITER]
    assert isinstance(limiter, RedisRateLimiter)
    return limiter


async def open_events(
    client: Client, pair: Pair, who: str = "mentor"
) -> aiohttp.ClientWebSocketResponse:
    token = pair.mentor_token if who == "mentor" else pair.mentee_token
    ws = await client.ws_connect(f"/ws/meetings/{pair.meeting_id}/events?token={token}")
    assert (await ws.receive_json())["type"] == "hello"
    return ws


async def refused_socket(client: Client, pair: Pair, who: str = "mentor") -> str:
    """The refused upgrade's JSON message (a 429 before any websocket is made)."""
    token = pair.mentor_token if who == "mentor" else pair.mentee_token
    response = await client.get(
        f"/ws/meetings/{pair.meeting_id}/events?token={token}",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 429, response.status
    assert int(response.headers["Retry-After"]) >= 1
    message: str = (await response.json())["error"]["message"]
    return message


def held(client: Client, key: str) -> int:
    """Sockets the instance counts on `key`, once every release has reached Redis (-1 before)."""
    budget = budget_of(client)
    return -1 if budget.releasing else budget.local.counts.get(key, 0)


async def test_socket_budgets_count_the_sockets_of_both_instances(
    instances: tuple[Client, Client],
) -> None:
    a, b = instances
    pair = await make_pair(a.app, "sockets")
    person = f"person:{pair.mentor_id}"
    first = [await open_events(a, pair), await open_events(a, pair)]
    third = await open_events(b, pair)
    for client in (a, b):  # three open, two here and one there: the fourth is refused anywhere
        assert (await refused_socket(client, pair)).startswith("websockets_per_person:")
    await first[0].close()
    await until(lambda: held(a, person) == 1, "the closed socket given back")
    again = await open_events(b, pair)  # one place free again, on the other instance

    # Per meeting: the mentor's three and the mentee's two are the meeting's five.
    mentee = [await open_events(b, pair, "mentee"), await open_events(a, pair, "mentee")]
    message = await refused_socket(b, pair, "mentee")
    assert message.startswith("websockets_per_meeting:")
    assert "MENTOR_SIDECAR_WEBSOCKETS_PER_MEETING" in message
    for ws in (first[1], third, again, *mentee):
        await ws.close()


async def test_a_dead_instances_sockets_stop_counting_after_its_lease(redis_url: str) -> None:
    counters = [("person:p1", 2)]
    dying = RedisSocketBudget(redis_client(redis_url), lease_seconds=1)
    living = RedisSocketBudget(redis_client(redis_url))
    try:
        assert await dying.acquire(counters) is None
        assert await dying.acquire(counters) is None
        assert await living.acquire(counters) == counters[0]  # the dying instance's two count
        # It dies without giving anything back: no renewal, no release. Its lease runs out.
        deadline = time.monotonic() + DEADLINE_SECONDS
        while await living.acquire(counters) is not None:
            assert time.monotonic() < deadline, "a dead instance's sockets still count"
            await asyncio.sleep(0.05)  # polling for the lease's expiry, with a deadline
        assert await living.acquire(counters) is None  # now its own two, no one else's
        assert await living.acquire(counters) == counters[0]
    finally:
        for budget in (dying, living):
            await budget.client.aclose()


async def test_an_instance_that_stops_gives_its_sockets_back_at_once(redis_url: str) -> None:
    counters = [("person:p1", 1)]
    leaving = RedisSocketBudget(redis_client(redis_url))
    staying = RedisSocketBudget(redis_client(redis_url))
    try:
        leaving.start()
        await until(lambda: not leaving._stale, "the first lease")
        assert await leaving.acquire(counters) is None
        assert await staying.acquire(counters) == counters[0]
        await leaving.stop()  # a graceful stop gives the lease up
        assert await staying.acquire(counters) is None
    finally:
        for budget in (leaving, staying):
            await budget.client.aclose()


async def test_with_redis_stopped_each_instance_counts_alone_then_shares_again(
    instances: tuple[Client, Client],
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = instances
    for client in (a, b):  # after the restart, the first request tries Redis again
        limiter_of(client).reachability.retry_seconds = 0
        budget_of(client).reachability.retry_seconds = 0
    limit = LIMITS["signin_requests_per_hour"]
    count = iter(range(1000))

    async def request(client: Client) -> int:
        return await ask(client, f"p{next(count)}@example.org", "198.51.100.1")

    assert [await request(c) for c in (a, a, b)] == [202] * 3  # shared: one left
    pair = await make_pair(a.app, "outage")
    person = f"person:{pair.mentor_id}"
    sockets = [await open_events(a, pair), await open_events(a, pair)]  # shared: one left

    caplog.set_level(logging.WARNING, logger="sidecar.limits_redis")
    redis_server.stop()
    # Each instance alone, on what it counted itself: a had 2 requests, b had 1.
    assert [await request(a) for _ in range(limit - 2)] == [202] * (limit - 2)
    assert await request(a) == 429
    assert [await request(b) for _ in range(limit - 1)] == [202] * (limit - 1)
    assert await request(b) == 429
    # Sockets likewise: a holds 2 of the mentor's 3, b none.
    sockets.append(await open_events(a, pair))
    assert (await refused_socket(a, pair)).startswith("websockets_per_person:")
    sockets += [await open_events(b, pair) for _ in range(3)]
    assert (await refused_socket(b, pair)).startswith("websockets_per_person:")
    lost = [r for r in caplog.records if "Redis out of reach" in r.getMessage()]
    assert len(lost) == 4, [r.getMessage() for r in lost]  # once per limiter per instance

    redis_server.start()  # empty: it keeps nothing on disk
    # The quota is shared again (Redis counts from zero after losing its data).
    assert await refused_at([a, b], lambda n: f"q{n}@example.org", lambda n: "198.51.100.1") == (
        limit + 1
    )
    # The open sockets are written back: six are open, so a seventh is refused on either.
    for client in (a, b):
        assert (await refused_socket(client, pair)).startswith("websockets_per_person:")
    for ws in sockets[:3] + sockets[3:5]:  # a's three and two of b's: one left open, on b
        await ws.close()
    await until(lambda: held(a, person) == 0 and held(b, person) == 1, "the sockets given back")
    last = [await open_events(a, pair), await open_events(a, pair)]
    assert (await refused_socket(a, pair)).startswith("websockets_per_person:")
    back = [r for r in caplog.records if "Redis answers again" in r.getMessage()]
    assert len(back) == 4, [r.getMessage() for r in back]
    for ws in (*last, sockets[5]):
        await ws.close()


async def test_counts_are_written_again_when_redis_restarts_empty(
    redis_server: RedisServer, redis_url: str
) -> None:
    counters = [("meeting:m1", 2)]
    here = RedisSocketBudget(redis_client(redis_url))
    there = RedisSocketBudget(redis_client(redis_url))
    try:
        await here.renew()  # its lease, as the running app renews it
        assert await here.acquire(counters) is None
        redis_server.stop()
        redis_server.start()  # empty; nothing was asked meanwhile, so nothing failed here
        assert await there.acquire(counters) is None  # Redis forgot here's socket...
        await there.release(counters)
        await here.renew()  # ...until here's next renewal finds its lease gone
        assert await there.acquire(counters) is None
        assert await there.acquire(counters) == counters[0]  # here's one and there's one
    finally:
        for budget in (here, there):
            await budget.client.aclose()
