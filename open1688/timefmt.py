"""Time formats of the 1688 Open Platform: `yyyyMMddHHmmssSSS+0800` and search strings."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone

from .errors import MalformedResponseError

CHINA_TZ = timezone(timedelta(hours=8))

_TIME_1688 = re.compile(r"(\d{14})(\d{3})?([+-])(\d{2})(\d{2})")
_SEARCH_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_1688_time(s: str | None) -> datetime | None:
    """Parse `20261123103000000+0800` (or the 14-digit form) to an aware datetime."""
    if s is None or s == "":
        return None
    match = _TIME_1688.fullmatch(s) if isinstance(s, str) else None
    if match is None:
        raise MalformedResponseError(f"not a 1688 time: {s!r}")
    d, millis, sign, hours, minutes = match.groups()
    try:
        return datetime(
            int(d[:4]), int(d[4:6]), int(d[6:8]), int(d[8:10]), int(d[10:12]), int(d[12:14]),
            int(millis or 0) * 1000, _zone(sign, hours, minutes),
        )  # fmt: skip
    except ValueError as exc:
        raise MalformedResponseError(f"not a 1688 time: {s!r}") from exc


@functools.lru_cache(maxsize=64)
def _zone(sign: str, hours: str, minutes: str) -> timezone:
    """One timezone object per offset seen (1688 sends +0800 in every answer)."""
    offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
    return timezone(offset)


def format_1688_time(dt: datetime) -> str:
    """Format an aware datetime in China time with millisecond precision (truncated)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_1688_time needs an aware datetime")
    local = dt.astimezone(CHINA_TZ)
    return f"{local:%Y%m%d%H%M%S}{local.microsecond // 1000:03d}+0800"


def parse_search_time(s: str | None) -> datetime | None:
    """Parse the search APIs' `yyyy-MM-dd HH:mm:ss` (China time)."""
    if s is None or s == "":
        return None
    try:
        return datetime.strptime(s, _SEARCH_FORMAT).replace(tzinfo=CHINA_TZ)
    except (TypeError, ValueError) as exc:
        raise MalformedResponseError(f"not a search time: {s!r}") from exc
