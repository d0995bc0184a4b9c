"""Rate limits and quotas a public deployment needs.

Each quota is a token bucket: up to `limit` actions at once, refilled at `limit` per `window`.
HTTP quotas are keyed by person (or, for anonymous sign-ups, by client address) and kept behind
the small `RateLimiter` interface, so several instances can later share them through Redis.
A websocket's message rate is a bucket per connection, which needs no sharing; a socket over
it is read more slowly, never closed. How many websockets are open at once, per person and per
meeting, is a `SocketBudget`: counters taken before the upgrade and given back when the socket
ends. With MENTOR_SIDECAR_REDIS_URL both are shared by the instances (sidecar/limits_redis.py).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from aiohttp import web

from sidecar.api.errors import ApiError
from sidecar.settings import Settings

Clock = Callable[[], float]
KeyKind = Literal["address", "person", "email"]


@dataclass(frozen=True)
class Quota:
    name: str
    what: str  # "sign-ups", in messages
    setting: str  # the Settings field holding the limit
    window_seconds: float
    key: KeyKind

    def limit(self, settings: Settings) -> int:
        value: int = getattr(settings, self.setting)
        return value


QUOTAS: dict[str, Quota] = {
    quota.name: quota
    for quota in (
        Quota("signup", "sign-ups", "signups_per_hour", 3600, "address"),
        Quota("invite", "invites", "invites_per_day", 86400, "person"),
        Quota("upload", "uploads", "uploads_per_hour", 3600, "person"),
        # "Email me a sign-in link": per client address, and per email address asked about.
        Quota(
            "signin_request", "sign-in link requests", "signin_requests_per_hour", 3600, "address"
        ),
        Quota(
            "signin_email",
            "sign-in links to one email address",
            "signin_requests_per_email_per_hour",
            3600,
            "email",
        ),
    )
}


class TokenBucket:
    """`capacity` tokens, refilled continuously at `rate` per second."""

    __slots__ = ("_clock", "capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, clock: Clock = time.monotonic) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self._clock = clock
        self.stamp = clock()

    def take(self) -> float:
        """Take a token; 0.0 when allowed, else the seconds until one is available."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else math.inf

    async def wait(self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Take a token, sleeping until one is available (back-pressure, not refusal)."""
        delay = self.take()
        while delay > 0:
            await sleep(delay)
            delay = self.take()

    def full(self) -> bool:
        now = self._clock()
        return self.tokens + (now - self.stamp) * self.rate >= self.capacity


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: float) -> float:
        """Count one action; 0.0 when allowed, else seconds to wait."""
        ...


class LocalRateLimiter:
    """Buckets in this process's memory; idle (full) buckets are forgotten as keys pile up."""

    def __init__(self, clock: Clock = time.monotonic, max_keys: int = 50_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    async def hit(self, key: str, limit: int, window_seconds: float) -> float:
        if limit <= 0:
            return 0.0  # 0 switches the quota off
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_idle()
            bucket = TokenBucket(limit, limit / window_seconds, self._clock)
            self._buckets[key] = bucket
        return bucket.take()

    def _forget_idle(self) -> None:
        self._buckets = {k: b for k, b in self._buckets.items() if not b.full()}

    def __len__(self) -> int:
        return len(self._buckets)


def client_address(request: web.Request, settings: Settings) -> str:
    """The caller's address; behind a trusted proxy, the first `X-Forwarded-For` entry."""
    if settings.trust_forwarded_headers:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


async def enforce(
    limiter: RateLimiter,
    quota: Quota,
    request: web.Request,
    settings: Settings,
    person_id: str | None,
) -> None:
    """Raise 429 with Retry-After when the caller has used up this quota."""
    who = person_id if quota.key == "person" and person_id else client_address(request, settings)
    await enforce_for(limiter, quota, who, settings)


async def enforce_for(limiter: RateLimiter, quota: Quota, who: str, settings: Settings) -> None:
    """`enforce` for a key the caller chose (an email address for `signin_email`)."""
    limit = quota.limit(settings)
    wait = await limiter.hit(f"{quota.name}:{who}", limit, quota.window_seconds)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        per = "hour" if quota.window_seconds == 3600 else "day"
        raise ApiError(
            429,
            f"{quota.name}: at most {limit} {quota.what} per {per}"
            f" (MENTOR_SIDECAR_{quota.setting.upper()}); try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


def message_bucket(settings: Settings) -> TokenBucket | None:
    """A websocket's allowance: the set rate per second, bursts of up to twice that.

    A socket over it is slowed down, never closed: its handler awaits `TokenBucket.wait` before
    reading on, so aiohttp's queue fills, the transport stops reading and TCP flow control holds
    the sender back. Only the flooder waits; the room and everyone else are untouched.
    """
    rate = settings.websocket_messages_per_second
    return TokenBucket(2 * rate, rate) if rate > 0 else None


# --- Open websockets at once, per person and per meeting ----------------------------------------

# A counter of open sockets and its limit, e.g. ("person:ID", 20); a limit of 0 is not counted.
SocketCounter = tuple[str, int]


class SocketBudget(Protocol):
    async def acquire(self, counters: Sequence[SocketCounter]) -> SocketCounter | None:
        """Count one more socket on every counter, unless one is full: then that one, uncounted."""
        ...

    async def release(self, counters: Sequence[SocketCounter]) -> None:
        """Give back what `acquire` counted."""
        ...


class LocalSocketBudget:
    """Counts in this process's memory (one instance, or each instance alone)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def full(self, counters: Sequence[SocketCounter]) -> SocketCounter | None:
        for key, limit in counters:
            if self.counts.get(key, 0) >= limit:
                return (key, limit)
        return None

    def add(self, counters: Sequence[SocketCounter]) -> None:
        for key, _ in counters:
            self.counts[key] = self.counts.get(key, 0) + 1

    def remove(self, counters: Sequence[SocketCounter]) -> None:
        for key, _ in counters:
            left = self.counts.get(key, 0) - 1
            if left > 0:
                self.counts[key] = left
            else:
                self.counts.pop(key, None)

    async def acquire(self, counters: Sequence[SocketCounter]) -> SocketCounter | None:
        over = self.full(counters)
        if over is None:
            self.add(counters)
        return over

    async def release(self, counters: Sequence[SocketCounter]) -> None:
        self.remove(counters)


SOCKETS_RETRY_SECONDS = 10  # Retry-After of a refused socket: until a panel elsewhere closes


class SocketHold:
    """One socket's share of its budgets, from before its upgrade until its handler ends."""

    def __init__(self, budget: SocketBudget, counters: Sequence[SocketCounter]) -> None:
        self._budget = budget
        self._counters = counters
        self._held = bool(counters)

    async def prepare(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        """`ws.prepare(request)`, the hold given back if the upgrade fails."""
        try:
            await ws.prepare(request)
        except BaseException:
            await self.release()
            raise

    async def release(self) -> None:
        if self._held:
            self._held = False
            await self._budget.release(self._counters)


async def hold_socket(
    budget: SocketBudget, settings: Settings, person_id: str, meeting_id: str | None = None
) -> SocketHold:
    """Count a socket about to open; 429 with Retry-After when its person or meeting has as
    many open as MENTOR_SIDECAR_WEBSOCKETS_PER_PERSON / _PER_MEETING allow."""
    per_person, per_meeting = settings.websockets_per_person, settings.websockets_per_meeting
    counters: list[SocketCounter] = []
    if per_person > 0:
        counters.append((f"person:{person_id}", per_person))
    if meeting_id is not None and per_meeting > 0:
        counters.append((f"meeting:{meeting_id}", per_meeting))
    if not counters:
        return SocketHold(budget, counters)
    over = await budget.acquire(counters)
    if over is not None:
        whose = "person" if over[0].startswith("person:") else "meeting"
        raise ApiError(
            429,
            f"websockets_per_{whose}: at most {over[1]} live connections (notes, live events) "
            f"open at once per {whose} (MENTOR_SIDECAR_WEBSOCKETS_PER_{whose.upper()}); "
            "close a panel you no longer use, then try again",
            headers={"Retry-After": str(SOCKETS_RETRY_SECONDS)},
        )
    return SocketHold(budget, counters)
