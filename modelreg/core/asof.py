"""Time travel: which events a past state replays, decided by event order, not by clocks; pure.

A moment is a span of time (one instant, or a whole day for a date) and, when the user named a
modelreg tag, that tag. The state at a moment is the replay of a model's events (in history order:
changes by seq, registrations where their writers placed them) up to and including the last one
whose recorded date is at or before the moment; for the tag's own model, up to and including the tag.

Dates only choose the cut; order comes from seq alone, so a clock that ran behind cannot put an
event before the events it followed. With seq 2 dated March 5, seq 3 March 6 and seq 4 March 4
noon (its writer's clock two days behind), the state on March 5 replays seq 1..4: seq 4 is known
to have happened by then, and it came after seq 3. At March 4, 11:00, it replays seq 1 alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from modelreg.core.events import history_order
from modelreg.core.instants import parse_instant
from modelreg.models import Event


class Moment(NamedTuple):
    """A point in the event log: the events recorded in `first`..`last` are at it."""

    first: datetime
    last: datetime
    tag: str | None = None  # a modelreg tag named by the user: its model is cut exactly there
    text: str = ""  # what the user wrote, for messages

    def __str__(self) -> str:
        return self.text or self.last.isoformat()


def recorded(event: Event) -> datetime | None:
    """When the event's tag says it happened (None: no date, and so never at or before a moment)."""
    return parse_instant(event.date) if event.date else None


def _cut(ordered: list[Event], moment: Moment, *, inclusive: bool) -> int:
    """How many of `ordered` lie before the moment (`inclusive`: at or before it)."""
    if moment.tag is not None:
        for index, event in enumerate(ordered):
            if event.tag == moment.tag:
                return index + 1 if inclusive else index
    for index in range(len(ordered) - 1, -1, -1):  # the last one that qualifies: search from the end
        when = recorded(ordered[index])
        if when is not None and (when <= moment.last if inclusive else when < moment.first):
            return index + 1
    return 0


def until(events: Iterable[Event], moment: Moment) -> list[Event]:
    """The events, in history order, that the state at `moment` replays."""
    ordered = history_order(events)
    return ordered[: _cut(ordered, moment, inclusive=True)]


def between(events: Iterable[Event], since: Moment | None, until_: Moment | None) -> list[Event]:
    """History entries from `since` (events at or after it) to `until_` (at or before it), in history order.

    Both ends cut the same order as `until`: `since` drops the entries the state just before it replays.
    """
    ordered = history_order(events)
    end = _cut(ordered, until_, inclusive=True) if until_ is not None else len(ordered)
    start = _cut(ordered, since, inclusive=False) if since is not None else 0
    return ordered[start:end]
