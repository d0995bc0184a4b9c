"""Quotas and websocket budgets shared by several instances through Redis (issue 17).

Quotas: the same token bucket as `LocalRateLimiter`, one Redis hash per key updated by one Lua
script (atomic, on Redis's own clock, so the instances' clocks do not matter), expiring once it
would be full again.

Socket budgets: one Redis hash per counter (`person:ID`, `meeting:ID`), a field per instance
holding how many sockets that instance has open on it. Each instance keeps a lease key alive
(`...:instance:ID`, TTL `LEASE_SECONDS`, renewed every third of it); the counting script adds up
only the fields of instances whose lease is alive and removes the others, so the sockets of an
instance killed -9 stop counting once its lease expires.

Redis out of reach: each instance goes on alone, with its own in-memory counts (which it keeps
all along), logging once when Redis is lost and once when it answers again; it retries Redis at
most every `RETRY_SECONDS`, so an outage does not cost every request a timeout. When Redis is
back (or lost its data, seen as a missing lease) the instance writes its open-socket counts back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from sidecar.limits import Clock, LocalRateLimiter, LocalSocketBudget, SocketCounter

log = logging.getLogger(__name__)

PREFIX = "mentor-sidecar:limits:"
LEASE_SECONDS = 30  # a killed instance's sockets stop counting this long after its last renewal
RETRY_SECONDS = 1.0  # while Redis is out of reach, how often a request tries it again
TIMEOUT_SECONDS = 1.0  # connect and reply timeout of one Redis call: a request waits no longer
COUNTS_TTL_SECONDS = 86_400  # a counter nobody touches for a day goes (its instances rewrite it)
# What a Redis call may raise when Redis is away (OSError: the socket itself).
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)

# KEYS[1] the bucket; ARGV capacity, window seconds. Returns the seconds to wait, as a string
# (a Lua number would be truncated to an integer on the way back).
TAKE_TOKEN = """
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local rate = capacity / window
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""

# KEYS the counters; ARGV[1] this instance, ARGV[2] the lease key prefix, ARGV[3] the counters'
# TTL, ARGV[4..] their limits. Returns 0 when counted, else the (1-based) index of a full one.
ACQUIRE_SOCKET = """
local me = ARGV[1]
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 3])
  local total = 0
  local fields = redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    local instance = fields[j]
    if instance == me or redis.call('EXISTS', ARGV[2] .. instance) == 1 then
      total = total + tonumber(fields[j + 1])
    else
      redis.call('HDEL', key, instance)
    end
  end
  if total >= limit then
    return i
  end
end
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, me, 1)
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
end
return 0
"""

# KEYS[1] this instance's lease, KEYS[2..] counters; ARGV[1] this instance, ARGV[2] the lease's
# TTL, ARGV[3] the counters' TTL, ARGV[4..] this instance's count on each (0: none).
WRITE_BACK = """
redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[2]))
for i = 2, #KEYS do
  local count = tonumber(ARGV[i + 2])
  if count > 0 then
    redis.call('HSET', KEYS[i], ARGV[1], count)
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3]))
  else
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
return 0
"""

# KEYS the counters; ARGV[1] this instance.
RELEASE_SOCKET = """
for _, key in ipairs(KEYS) do
  if redis.call('HINCRBY', key, ARGV[1], -1) <= 0 then
    redis.call('HDEL', key, ARGV[1])
  end
end
return 0
"""


def redis_client(url: str) -> Redis:
    """A client that gives up quickly: a limit never holds a request up for long."""
    client: Redis = Redis.from_url(
        url,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        # One retry, only for a connection found closed (as all of them are after Redis
        # restarted): a timeout is not tried again, so a request waits at most TIMEOUT_SECONDS.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        retry_on_error=[RedisConnectionError],
        health_check_interval=0,
    )
    return client


class Reachability:
    """Whether Redis answered last time; logs each change once, spaces out retries."""

    def __init__(self, what: str, clock: Clock = time.monotonic) -> None:
        self.what = what
        self.retry_seconds = RETRY_SECONDS
        self._clock = clock
        self.down_since: float | None = None
        self._next_try = 0.0

    @property
    def up(self) -> bool:
        return self.down_since is None

    def worth_trying(self) -> bool:
        return self.down_since is None or self._clock() >= self._next_try

    def answered(self) -> bool:
        """Redis answered; True when that ends an outage."""
        if self.down_since is None:
            return False
        log.warning(
            "Redis answers again after %.1f s: %s shared by the instances again",
            self._clock() - self.down_since,
            self.what,
        )
        self.down_since = None
        return True

    def failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._next_try = now + self.retry_seconds
        if self.down_since is None:
            self.down_since = now
            log.warning(
                "Redis out of reach (%s: %s): %s counted by each instance alone until it answers",
                type(exc).__name__,
                exc,
                self.what,
            )


class RedisRateLimiter:
    """`RateLimiter` on Redis; each instance also counts in memory, used alone while Redis is
    out of reach (so then each instance allows at most the limit by itself)."""

    def __init__(self, client: Redis, clock: Clock = time.monotonic) -> None:
        self.client = client
        self.local = LocalRateLimiter(clock)
        self.reachability = Reachability("quotas", clock)
        self._take: Any = client.register_script(TAKE_TOKEN)

    async def hit(self, key: str, limit: int, window_seconds: float) -> float:
        if limit <= 0:
            return 0.0
        local_wait = await self.local.hit(key, limit, window_seconds)
        if not self.reachability.worth_trying():
            return local_wait
        try:
            reply = await self._take(keys=[PREFIX + "quota:" + key], args=[limit, window_seconds])
        except REDIS_ERRORS as exc:
            self.reachability.failed(exc)
            return local_wait
        self.reachability.answered()
        return float(reply)


class RedisSocketBudget:
    """`SocketBudget` on Redis, with a lease per instance; the local counts are the truth of
    this instance's own sockets (written back to Redis after an outage)."""

    def __init__(
        self, client: Redis, instance_id: str | None = None, lease_seconds: int = LEASE_SECONDS
    ) -> None:
        self.client = client
        self.instance_id = instance_id or uuid.uuid4().hex
        self.lease_seconds = lease_seconds
        self.local = LocalSocketBudget()
        self.reachability = Reachability("websocket budgets")
        self._acquire: Any = client.register_script(ACQUIRE_SOCKET)
        self._release: Any = client.register_script(RELEASE_SOCKET)
        self._write: Any = client.register_script(WRITE_BACK)
        self._lease_key = PREFIX + "instance:" + self.instance_id
        self._stale = True  # Redis does not hold this instance's counts yet (no lease yet)
        self._written: set[str] = set()  # counters whose Redis hash may hold a field of ours
        self._renewer: asyncio.Task[None] | None = None
        self.releasing = 0  # releases on their way to Redis
        self._tasks: set[asyncio.Future[None]] = set()
        self._counting: set[asyncio.Future[SocketCounter | None]] = set()

    @staticmethod
    def _key(counter: str) -> str:
        return PREFIX + "sockets:" + counter

    async def acquire(self, counters: Sequence[SocketCounter]) -> SocketCounter | None:
        # Shielded: a handler cancelled meanwhile (its client gone) must not leave a count in
        # Redis that nothing gives back; what the cancelled call counted is given back.
        counting = asyncio.ensure_future(self._acquire_now(counters))
        self._counting.add(counting)
        counting.add_done_callback(self._counting.discard)
        try:
            return await asyncio.shield(counting)
        except asyncio.CancelledError:
            counting.add_done_callback(lambda done: self._give_back_if_counted(done, counters))
            raise

    def _give_back_if_counted(
        self, done: asyncio.Future[SocketCounter | None], counters: Sequence[SocketCounter]
    ) -> None:
        if not done.cancelled() and done.exception() is None and done.result() is None:
            self._tasks.add(task := asyncio.ensure_future(self.release(counters)))
            task.add_done_callback(self._tasks.discard)

    async def _acquire_now(self, counters: Sequence[SocketCounter]) -> SocketCounter | None:
        if self.reachability.worth_trying():
            try:
                if self._stale:
                    await self._write_back()
                index = await self._acquire(
                    keys=[self._key(key) for key, _ in counters],
                    args=[
                        self.instance_id,
                        PREFIX + "instance:",
                        COUNTS_TTL_SECONDS,
                        *(limit for _, limit in counters),
                    ],
                )
            except REDIS_ERRORS as exc:
                self._lost(exc)
            else:
                self.reachability.answered()
                if int(index):
                    return counters[int(index) - 1]
                self.local.add(counters)
                self._written.update(key for key, _ in counters)
                return None
        return await self.local.acquire(counters)

    async def release(self, counters: Sequence[SocketCounter]) -> None:
        self.local.remove(counters)  # first: a write-back meanwhile leaves this socket out
        if not self.reachability.worth_trying():
            self._stale = True
            return
        # Shielded: a handler cancelled while giving its socket back (its client went away)
        # still gives it back in Redis.
        self.releasing += 1
        releasing = asyncio.ensure_future(self._release_in_redis(counters))
        self._tasks.add(releasing)  # held here until done: the loop keeps only weak references
        releasing.add_done_callback(self._tasks.discard)
        await asyncio.shield(releasing)

    async def _release_in_redis(self, counters: Sequence[SocketCounter]) -> None:
        try:
            if self._stale:
                await self._write_back()  # the counts as they are now, this one given back
            else:
                await self._release(
                    keys=[self._key(key) for key, _ in counters], args=[self.instance_id]
                )
        except REDIS_ERRORS as exc:
            self._lost(exc)
        else:
            self.reachability.answered()
        finally:
            self.releasing -= 1

    def _lost(self, exc: BaseException) -> None:
        self.reachability.failed(exc)
        self._stale = True

    async def _write_back(self) -> None:
        """Renew the lease and write this instance's counts as they are (after an outage, or
        when Redis lost them): each counter's field of ours set, or removed when at zero."""
        counts = dict(self.local.counts)
        keys = sorted(self._written | set(counts))
        await self._write(
            keys=[self._lease_key, *(self._key(key) for key in keys)],
            args=[
                self.instance_id,
                self.lease_seconds,
                COUNTS_TTL_SECONDS,
                *(counts.get(key, 0) for key in keys),
            ],
        )
        self._written = set(counts)
        self._stale = False

    async def renew(self) -> None:
        """Renew the lease; write the counts back when it had gone (Redis restarted empty, or
        this instance was away longer than the lease and the others dropped its counts)."""
        try:
            if self._stale:
                await self._write_back()
            elif (
                await self.client.set(self._lease_key, "1", ex=self.lease_seconds, get=True) is None
            ):
                log.warning("this instance's Redis lease had gone: its socket counts written again")
                await self._write_back()
        except REDIS_ERRORS as exc:
            self._lost(exc)
        else:
            self.reachability.answered()

    def start(self) -> None:
        self._renewer = asyncio.create_task(self._renew_forever(), name="socket-budget-lease")

    async def _renew_forever(self) -> None:
        while True:
            await self.renew()
            await asyncio.sleep(self.lease_seconds / 3)  # a period, not a synchronisation

    async def stop(self) -> None:
        """Stop renewing and give the lease up: the others stop counting our sockets at once."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        with contextlib.suppress(*REDIS_ERRORS):
            await self.client.delete(self._lease_key)
