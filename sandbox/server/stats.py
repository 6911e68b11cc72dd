"""Gateway call counters per API name (for /_sandbox/stats), and when each call arrived (for
/_sandbox/stats/arrivals: a rate limit is judged by the times its calls reached the gateway)."""

import threading
import time
from collections import Counter, deque

ARRIVALS_KEPT = 200_000


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()  # gateway refusals by code (e.g. quota)
        self._arrivals: deque[float] = deque(maxlen=ARRIVALS_KEPT)

    def count(self, api_name: str) -> None:
        arrived = time.monotonic()
        with self._lock:
            self._calls[api_name] += 1
            self._arrivals.append(arrived)

    def arrivals(self) -> dict:
        """Each call's arrival, in seconds since the first one kept (the last ARRIVALS_KEPT)."""
        with self._lock:
            times = list(self._arrivals)
        first = times[0] if times else 0.0
        return {"arrivals": [round(t - first, 6) for t in times]}

    def refuse(self, code: str) -> None:
        with self._lock:
            self._refused[code] += 1

    def snapshot(self) -> dict:
        with self._lock:
            snapshot = {"calls": dict(self._calls), "total": sum(self._calls.values())}
            if self._refused:
                snapshot["refused"] = dict(self._refused)
            return snapshot

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._refused.clear()
            self._arrivals.clear()
