"""1688 time stamps (always China time, +0800) and the sandbox's monotonic clock."""

import re
import threading
import time
from datetime import datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8))
_TIME_1688 = re.compile(r"^(\d{14})(\d{3})?([+-]\d{4})?$")


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def format_1688(ms: int) -> str:
    """``yyyyMMddHHmmssSSS+0800``"""
    moment = datetime.fromtimestamp(ms / 1000, CHINA_TZ)
    return f"{moment:%Y%m%d%H%M%S}{ms % 1000:03d}+0800"


def format_search(ms: int) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in China time, as the search APIs write dates."""
    return f"{datetime.fromtimestamp(ms // 1000, CHINA_TZ):%Y-%m-%d %H:%M:%S}"


def parse_1688(text: str) -> int:
    """Epoch ms from the 17-digit or 14-digit form; a missing offset means China time."""
    match = _TIME_1688.match(text.strip())
    if not match:
        raise ValueError(f"not a 1688 time: {text!r}")
    digits, millis, offset = match.groups()
    zone = CHINA_TZ
    if offset:
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
    moment = datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=zone)
    return int(moment.timestamp()) * 1000 + int(millis or 0)


class MonotonicClock:
    """The store's clock: never goes backwards, and every modify stamp it hands out is later
    than the one before, so two changes within one wall-clock millisecond still get distinct,
    ordered lastUpdateTime values. ``now_ms`` is never earlier than a stamp already given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._highest = 0

    def now_ms(self) -> int:
        with self._lock:
            self._highest = max(self._highest, wall_ms())
            return self._highest

    def next_stamp(self, after_ms: int = 0) -> int:
        """A modify stamp: now, later than every earlier stamp and than ``after_ms``."""
        with self._lock:
            self._highest = max(self._highest + 1, wall_ms(), after_ms + 1)
            return self._highest
