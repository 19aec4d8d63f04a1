"""ISO 8601 dates and datetimes as the spans of time they name; pure.

A datetime names one instant. A date names a whole day: `first` is its first microsecond and `last`
its last, in UTC unless the text gives a zone (`2026-03-01+02:00`, `2026-03-01Z`). A datetime without a
zone is UTC too, so the same text means the same instant on every machine.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import NamedTuple

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:?\d{2})?")
_DAY_LONG = timedelta(days=1, microseconds=-1)  # a day's first to last microsecond


class Span(NamedTuple):
    """The instants a date or datetime names, both ends included."""

    first: datetime
    last: datetime

    @property
    def is_day(self) -> bool:
        return self.first != self.last


def parse_span(text: str) -> Span | None:
    """The span `text` names, or None when it is not an ISO 8601 date or datetime."""
    text = text.strip()
    day = _DATE.fullmatch(text)
    if day:
        try:
            start = datetime.combine(date.fromisoformat(day.group(1)), time(), _zone(day.group(2)))
        except ValueError:
            return None
        return Span(start, start + _DAY_LONG)  # one step: 9999-12-31 ends at datetime.max, not past it
    instant = parse_instant(text)
    return Span(instant, instant) if instant is not None else None


def parse_instant(text: str) -> datetime | None:
    """An aware datetime (UTC when no zone is given), or None when `text` is not an ISO 8601 datetime."""
    if not text or not text[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(text)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
