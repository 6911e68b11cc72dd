"""Per app key token buckets (in memory, thread safe)."""

import threading
import time


class RateLimiter:
    """A bucket per app key holding up to one second of calls, refilled continuously.
    A rate of 0 or less means no limit."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # app key -> (tokens, last refill)

    def allow(self, app_key: str, rate_per_sec: float) -> bool:
        if rate_per_sec <= 0:
            return True
        capacity = max(1.0, rate_per_sec)
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(app_key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate_per_sec)
            allowed = tokens >= 1.0
            self._buckets[app_key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
