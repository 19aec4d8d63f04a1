"""Time travel by event order: modelreg.core.asof."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from modelreg.core.asof import Moment, between, until
from modelreg.core.instants import parse_span
from modelreg.models import Event


def reg(version: int, date: str, after: int | None = None) -> Event:
    return Event("m", "register", version, f"m@v{version}", date=date, after=after)


def change(seq: int, version: int, target: str, date: str) -> Event:
    return Event("m", "assign", version, f"m#{target}#{seq}", seq=seq, kind="stage", target=target, date=date)


# seq 4's writer had a clock two days behind: it says March 4, but came after seq 3 (March 6).
EVENTS = [
    change(4, 1, "champion", "2026-03-04T12:00:00+00:00"),
    reg(1, "2026-03-01T10:00:00+00:00", after=0),
    change(1, 1, "production", "2026-03-03T10:00:00+00:00"),
    reg(2, "2026-03-02T10:00:00+02:00", after=0),  # 08:00Z
    change(2, 2, "production", "2026-03-05T10:00:00+00:00"),
    change(3, 2, "champion", "2026-03-06T10:00:00+00:00"),
    reg(3, "2026-03-08T10:00:00+00:00", after=4),
]


def moment(text: str) -> Moment:
    span = parse_span(text)
    assert span is not None
    return Moment(span.first, span.last, None, text)


def tags(events: list[Event]) -> list[str]:
    return [e.tag for e in events]


def test_until_cuts_after_the_last_event_recorded_by_then_in_event_order() -> None:
    assert tags(until(EVENTS, moment("2026-02-28"))) == []
    assert tags(until(EVENTS, moment("2026-03-01"))) == ["m@v1"]
    assert tags(until(EVENTS, moment("2026-03-02T07:59:59Z"))) == ["m@v1"]  # v2's date is 08:00Z
    assert tags(until(EVENTS, moment("2026-03-02T08:00:00Z"))) == ["m@v1", "m@v2"]
    assert tags(until(EVENTS, moment("2026-03-04T11:00:00Z"))) == ["m@v1", "m@v2", "m#production#1"]
    # By March 4 noon seq 4 had happened, so everything before it in seq order had too.
    through_4 = ["m@v1", "m@v2", "m#production#1", "m#production#2", "m#champion#3", "m#champion#4"]
    assert tags(until(EVENTS, moment("2026-03-04"))) == through_4
    assert tags(until(EVENTS, moment("2026-03-07"))) == through_4
    assert tags(until(EVENTS, moment("2026-03-08"))) == [*through_4, "m@v3"]


def test_a_tag_cuts_exactly_there_whatever_its_date() -> None:
    at_3 = Moment(datetime(2026, 3, 6, 10, tzinfo=UTC), datetime(2026, 3, 6, 10, tzinfo=UTC), "m#champion#3")
    assert tags(until(EVENTS, at_3))[-1] == "m#champion#3"
    at_v2 = Moment(datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 8, tzinfo=UTC), "m@v2")
    assert tags(until(EVENTS, at_v2)) == ["m@v1", "m@v2"]
    elsewhere = at_3._replace(tag="other#production#9")  # another model's tag: its date decides
    assert tags(until(EVENTS, elsewhere)) == tags(until(EVENTS, moment("2026-03-06T10:00:00Z")))


def test_events_without_a_date_never_count_as_before() -> None:
    undated = [reg(1, "2026-03-01T10:00:00Z", after=0), change(1, 1, "production", "")]
    assert tags(until(undated, moment("2030-01-01"))) == ["m@v1"]


def test_between_keeps_the_entries_from_since_to_until() -> None:
    assert tags(between(EVENTS, moment("2026-03-04"), moment("2026-03-05"))) == [
        "m#production#2",
        "m#champion#3",
        "m#champion#4",
    ]
    assert tags(between(EVENTS, None, moment("2026-03-02"))) == ["m@v1", "m@v2"]
    assert tags(between(EVENTS, moment("2026-03-08"), None)) == ["m@v3"]
    assert tags(between(EVENTS, moment("2026-03-09"), None)) == []
    since_3 = Moment(datetime(2026, 3, 6, 10, tzinfo=UTC), datetime(2026, 3, 6, 10, tzinfo=UTC), "m#champion#3")
    assert tags(between(EVENTS, since_3, None)) == ["m#champion#3", "m#champion#4", "m@v3"]
    assert tags(between(EVENTS, None, None)) == tags(until(EVENTS, moment("2099-01-01")))


@given(
    st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=21),
    st.integers(min_value=0, max_value=21),
)
def test_cuts_are_prefixes_of_event_order_and_grow_with_time(days: list[int], a: int, b: int) -> None:
    # Events in seq order, each dated by a clock that may be anywhere: a cut never reorders them.
    events = [reg(1, "2026-01-01T00:00:00Z", after=0)] + [
        change(seq, 1, "production", f"2026-02-{day + 1:02d}T12:00:00Z") for seq, day in enumerate(days, start=1)
    ]
    ordered = tags(until(events, moment("2099-01-01")))
    early, late = sorted((a, b))
    first = tags(until(events, moment(f"2026-02-{early + 1:02d}")))
    second = tags(until(events, moment(f"2026-02-{late + 1:02d}")))
    assert first == ordered[: len(first)] and second == ordered[: len(second)]
    assert len(first) <= len(second)
    # The last event kept is dated by then, and none after it is.
    cut = moment(f"2026-02-{late + 1:02d}")
    kept_dates = [e.date for e in events if e.tag in second and e.seq is not None]
    if kept_dates:
        assert max(kept_dates[-1:]) <= cut.last.isoformat().replace("+00:00", "Z")
    assert all(e.date > cut.last.isoformat().replace("+00:00", "Z") for e in events[len(second) :] if e.seq)
