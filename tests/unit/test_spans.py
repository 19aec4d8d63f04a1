"""Dates at the ends of time (issue 23, case 6): a span, never an OverflowError."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.core.instants import parse_span


@pytest.mark.parametrize("zone", ["", "Z", "+05:00", "-05:00", "+23:59", "-2359"])
def test_the_last_day_ends_at_its_last_microsecond(zone: str) -> None:
    span = parse_span("9999-12-31" + zone)
    assert span is not None
    assert span.last.replace(tzinfo=None) == datetime.max
    assert span.first.replace(tzinfo=None) == datetime(9999, 12, 31)
    assert span.first.utcoffset() == span.last.utcoffset()


@pytest.mark.parametrize("zone", ["", "+05:00", "-05:00"])
def test_the_first_day_starts_at_midnight(zone: str) -> None:
    span = parse_span("0001-01-01" + zone)
    assert span is not None
    assert span.first.replace(tzinfo=None) == datetime.min
    assert span.last - span.first == timedelta(days=1, microseconds=-1)


@pytest.mark.parametrize("text", ["10000-01-01", "9999-12-32", "0000-12-31", "9999-12-31+24:00"])
def test_past_the_ends_is_no_date(text: str) -> None:
    assert parse_span(text) is None


@given(st.dates(), st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_every_day_spans_one_day_less_a_microsecond(day, minutes: int) -> None:
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    span = parse_span(day.isoformat() + zone)
    assert span is not None
    assert span.last - span.first == timedelta(days=1, microseconds=-1)
    assert span.first.utcoffset() == timezone(timedelta(minutes=minutes)).utcoffset(None)
