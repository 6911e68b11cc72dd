"""Gateway call counters per API name (for /_sandbox/stats)."""

import threading
from collections import Counter


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()

    def count(self, api_name: str) -> None:
        with self._lock:
            self._calls[api_name] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"calls": dict(self._calls), "total": sum(self._calls.values())}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
