"""Gateway call counters per API name (for /_sandbox/stats)."""

import threading
from collections import Counter


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()  # gateway refusals by code (e.g. quota)

    def count(self, api_name: str) -> None:
        with self._lock:
            self._calls[api_name] += 1

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
