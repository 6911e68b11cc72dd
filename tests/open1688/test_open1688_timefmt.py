from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open1688 import (
    CHINA_TZ,
    MalformedResponseError,
    format_1688_time,
    parse_1688_time,
    parse_search_time,
)


def test_parses_millisecond_form_as_china_time():
    parsed = parse_1688_time("20261123103000123+0800")
    assert parsed == datetime(2026, 11, 23, 2, 30, 0, 123000, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(hours=8)


def test_parses_fourteen_digit_form():
    assert parse_1688_time("20121222222222+0800") == datetime(
        2012, 12, 22, 22, 22, 22, tzinfo=CHINA_TZ
    )


def test_keeps_other_offsets():
    assert parse_1688_time("20261123103000000-0130") == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_empty_is_none():
    assert parse_1688_time(None) is None
    assert parse_1688_time("") is None
    assert parse_search_time(None) is None


@pytest.mark.parametrize(
    "junk",
    [
        "2026-11-23 10:30:00",
        "20261123103000000",
        "20261323103000000+0800",
        "2026112310300+0800",
        "20261123103000000+08:00",
        "yesterday",
        20261123103000000,
    ],
)
def test_junk_raises_a_value_error_that_is_a_malformed_response(junk):
    with pytest.raises(MalformedResponseError) as raised:
        parse_1688_time(junk)
    assert isinstance(raised.value, ValueError)


def test_formats_in_china_time_truncating_to_milliseconds():
    moment = datetime(2026, 11, 23, 2, 30, 0, 123999, tzinfo=UTC)
    assert format_1688_time(moment) == "20261123103000123+0800"


def test_format_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        format_1688_time(datetime(2026, 11, 23, 10, 30))


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, CHINA_TZ, timezone(timedelta(hours=-5))]),
    )
)
def test_format_then_parse_round_trips_to_the_millisecond(moment):
    parsed = parse_1688_time(format_1688_time(moment))
    assert parsed == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_search_time_is_china_time():
    assert parse_search_time("2026-11-23 10:30:00") == datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize("junk", ["20261123103000000+0800", "2026-11-23", "2026-13-01 00:00:00"])
def test_search_time_junk_raises(junk):
    with pytest.raises(MalformedResponseError):
        parse_search_time(junk)
