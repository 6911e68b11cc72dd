"""Rate limits shared by every worker process: token buckets kept in Redis."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from .errors import RateLimitTimeout

# KEYS: bucket keys; ARGV: rate (tokens/s) and burst of each key, in the same order.
# Takes one token from every bucket or from none, and returns 0 or the wait in ms.
# Redis TIME is the one clock, so the clocks of the worker machines do not matter
# (Redis >= 5 replicates script effects, so TIME before writes is allowed).
_TOKEN_BUCKETS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local levels, wait = {}, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]) / 1000, tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local idle = math.max(0, now - (tonumber(state[2]) or now))
  levels[i] = math.min(burst, (tonumber(state[1]) or burst) + idle * rate)
  if levels[i] < 1 then wait = math.max(wait, (1 - levels[i]) / rate) end
end
if wait > 0 then return math.ceil(wait) end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]) / 1000, tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', levels[i] - 1, 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate) + 1000)
end
return 0
"""

_JITTER_SECONDS = 0.01


class RedisRateLimiter:
    """An app-wide bucket plus optional per-API buckets; `acquire` takes a token from each."""

    def __init__(
        self,
        redis_client,
        app_key: str,
        rate: float = 5.0,
        per_api: Mapping[str, float] | None = None,
        burst: float | None = None,
        max_wait: float = 30.0,
    ) -> None:
        burst = max(1.0, rate) if burst is None else burst
        if rate <= 0 or burst < 1 or any(r <= 0 for r in (per_api or {}).values()):
            raise ValueError("rates must be positive and burst at least 1")
        self._script = redis_client.register_script(_TOKEN_BUCKETS)
        # The braces are a Redis Cluster hash tag: all of an app's buckets share one slot,
        # as a script touching several keys needs.
        self._prefix = f"open1688:rl:{{{app_key}}}"
        self._app_bucket = (self._prefix, float(rate), float(burst))
        self._per_api = dict(per_api or {})
        self.max_wait = max_wait

    def _buckets(self, api: str) -> list[tuple[str, float, float]]:
        buckets = [self._app_bucket]
        if api in self._per_api:
            rate = float(self._per_api[api])
            buckets.append((f"{self._prefix}:{api}", rate, max(1.0, rate)))
        return buckets

    def acquire(self, api: str) -> None:
        """Block until every bucket for `api` grants a token; RateLimitTimeout after max_wait."""
        buckets = self._buckets(api)
        keys = [key for key, _, _ in buckets]
        args = [value for _, rate, burst in buckets for value in (rate, burst)]
        deadline = time.monotonic() + self.max_wait
        while wait_ms := int(self._script(keys=keys, args=args)):
            pause = wait_ms / 1000 + random.uniform(0, _JITTER_SECONDS)
            if time.monotonic() + pause > deadline:
                raise RateLimitTimeout(f"no token within {self.max_wait}s", api=api)
            time.sleep(pause)


class NullRateLimiter:
    """No limit (tests, one-off scripts)."""

    def acquire(self, api: str) -> None:
        return None
