"""Rate limits shared by every worker process: slots reserved in Redis (GCRA).

Each bucket keeps one number in Redis, its theoretical arrival time (`tat`): the time the next
call may go out. `acquire` reserves the next free slot of every bucket the API uses in one
round trip and sleeps until it; no polling, so several workers together use the whole limit.

By default there is no burst: a run's first calls are spaced at the rate like the rest, so a
gateway counting calls per second (1688's gw.QosAppFrequencyLimit) never sees a run start with a
second's worth of calls at once (each run used to draw one quota error at start).

When the rate is high (the limit "lifted", e.g. benchmarks), one round trip reserves a lease of
several consecutive slots, spent by this process within LEASE_SECONDS; at ordinary rates
(fewer than two slots in a lease) every call makes its own reservation.

`usage` answers how full a bucket is and when its next slot comes, read from the same key by
the same clock, so nothing outside this module rebuilds the key or the arithmetic.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import RateLimitTimeout

# KEYS: bucket keys; ARGV[1]: slots wanted; ARGV[2]: longest wait accepted (µs); then the
# interval and the burst tolerance (µs) of each key, in the same order. Returns the wait in µs
# until the first reserved slot, or -1 - wait when that wait is longer than accepted (nothing
# is reserved then). Redis TIME is the one clock, so the clocks of the worker machines do not
# matter (Redis >= 5 replicates script effects, so TIME before writes is allowed).
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local count, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2])
local slot, tats = now, {}
for i, key in ipairs(KEYS) do
  local tolerance = tonumber(ARGV[2 * i + 2])
  local tat = tonumber(redis.call('HGET', key, 'tat')) or now
  tats[i] = math.max(tat, now)
  slot = math.max(slot, tat - tolerance)
end
local wait = math.ceil(slot - now)
if wait > max_wait then return -1 - wait end
for i, key in ipairs(KEYS) do
  local tat = tats[i] + count * tonumber(ARGV[2 * i + 1])
  redis.call('HSET', key, 'tat', string.format('%.0f', tat))
  redis.call('PEXPIRE', key, math.ceil((tat - now) / 1000) + 1000)
end
return wait
"""

LEASE_SECONDS = 0.02  # at high rates, one reservation covers this long of this process's calls


@dataclass(frozen=True)
class BucketUsage:
    """One bucket now: `percent` of it in use (100: a call now waits), `waiting` calls whose
    reserved slots are still ahead, `ahead` seconds until the next free slot."""

    rate: float
    percent: int = 0
    waiting: int = 0
    ahead: float = 0.0


class RedisRateLimiter:
    """An app-wide bucket plus optional per-API buckets; `acquire` takes a slot from each.

    `burst`: how many calls may go out at once after a quiet spell (default 1: none)."""

    def __init__(
        self,
        redis_client,
        app_key: str,
        rate: float = 5.0,
        per_api: Mapping[str, float] | None = None,
        burst: float | None = None,
        max_wait: float = 30.0,
    ) -> None:
        burst = 1.0 if burst is None else burst
        if rate <= 0 or burst < 1 or any(r <= 0 for r in (per_api or {}).values()):
            raise ValueError("rates must be positive and burst at least 1")
        self._redis = redis_client
        self._script = redis_client.register_script(_RESERVE)
        # The braces are a Redis Cluster hash tag: all of an app's buckets share one slot,
        # as a script touching several keys needs.
        self._prefix = f"open1688:rl:{{{app_key}}}"
        self._app_bucket = (self._prefix, float(rate), float(burst))
        self._per_api = dict(per_api or {})
        self._burst = float(burst)
        self.max_wait = max_wait
        self._leases: dict[str, tuple[int, float]] = {}  # lease key -> (slots left, valid until)

    def _buckets(self, api: str) -> list[tuple[str, float, float]]:
        buckets = [self._app_bucket]
        if api in self._per_api:
            rate = float(self._per_api[api])
            buckets.append((f"{self._prefix}:{api}", rate, max(1.0, min(rate, self._burst))))
        return buckets

    def acquire(self, api: str) -> None:
        """Block until every bucket for `api` grants a slot; RateLimitTimeout (at once) when
        the wait would be longer than max_wait."""
        lease_key = api if api in self._per_api else ""
        left, until = self._leases.get(lease_key, (0, 0.0))
        if left > 0 and time.monotonic() < until:
            self._leases[lease_key] = (left - 1, until)
            return
        buckets = self._buckets(api)
        count = max(1, int(min(rate for _, rate, _ in buckets) * LEASE_SECONDS))
        args = [count, int(self.max_wait * 1e6)]
        for _, rate, burst in buckets:
            interval = 1e6 / rate
            args += [interval, (burst - 1) * interval]
        wait_us = int(self._script(keys=[key for key, _, _ in buckets], args=args))
        if wait_us < 0:
            raise RateLimitTimeout(f"no slot within {self.max_wait}s", api=api)
        if wait_us:
            time.sleep(wait_us / 1e6)
        if count > 1:
            self._leases[lease_key] = (count - 1, time.monotonic() + LEASE_SECONDS)

    def usage(self, api: str | None = None) -> BucketUsage:
        """How full the app's bucket is now (or `api`'s own bucket, when it has one), by
        Redis's clock; reserves nothing. Redis errors propagate."""
        key, rate, burst = self._buckets(api)[-1] if api else self._app_bucket
        reads = self._redis.pipeline(transaction=False)
        reads.time()
        reads.hget(key, "tat")
        (seconds, micros), tat = reads.execute()
        if tat is None:  # unused or expired: empty
            return BucketUsage(rate)
        now, tat, interval = seconds * 1_000_000 + micros, float(tat), 1_000_000 / rate
        ahead = max(0.0, tat - now)
        level = (tat - now + interval) / (burst * interval)
        return BucketUsage(
            rate=rate,
            percent=max(0, min(100, round(100 * level))),
            waiting=int(ahead / interval),
            ahead=ahead / 1_000_000,
        )


class NullRateLimiter:
    """No limit (tests, one-off scripts)."""

    def acquire(self, api: str) -> None:
        return None
