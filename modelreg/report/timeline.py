"""Which version held each stage and alias when: spans over a model's history, pure.

The fold is the one `events.replay` makes, step by step: a stage event gives its version the
stage (taking it from that version's previous stage) and archives the versions it names; an
unassign takes the target from its version. Positions are places in the history (event order by
seq), never clock times. A unit test holds the spans that stay open to `replay`'s state.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelreg.core.events import ARCHIVED
from modelreg.models import Event, TargetKind
from modelreg.report.records import Span


def spans(history: Sequence[Event]) -> tuple[Span, ...]:
    """Every span of every stage and alias, in the order they began."""
    done: list[Span] = []
    stage_of: dict[int, Span] = {}  # version → its open stage span
    alias_of: dict[str, Span] = {}  # alias → its open span

    def close(span: Span, at: int, event: Event) -> None:
        if at > span.start:  # an event that gives and takes at once (archiving its own version) leaves nothing
            done.append(span._replace(end=at, until=event.date, end_tag=event.tag))

    def give_stage(version: int, stage: str, at: int, event: Event) -> None:
        held = stage_of.get(version)
        if held is not None and held.target == stage:
            return
        if held is not None:
            close(held, at, event)
        stage_of[version] = _open("stage", stage, version, at, event)

    for at, event in enumerate(history):
        if event.action not in ("assign", "unassign", "rollback") or event.kind not in ("stage", "alias"):
            continue  # registrations, and any model-level event: they move no stage or alias
        if event.target is None:
            continue
        if event.action == "unassign":
            if event.kind == "alias" and (span := alias_of.get(event.target)) and span.version == event.version:
                close(alias_of.pop(event.target), at, event)
            elif event.kind == "stage" and (span := stage_of.get(event.version)) and span.target == event.target:
                close(stage_of.pop(event.version), at, event)
            continue
        if event.kind == "alias":
            held = alias_of.get(event.target)
            if held is not None and held.version == event.version:
                continue
            if held is not None:
                close(held, at, event)
            alias_of[event.target] = _open("alias", event.target, event.version, at, event)
        else:
            give_stage(event.version, event.target, at, event)
            for old in event.archived:
                give_stage(old, ARCHIVED, at, event)
    done += stage_of.values()
    done += alias_of.values()
    return tuple(sorted(done, key=lambda s: (s.start, s.kind, s.target, s.version)))


def _open(kind: TargetKind, target: str, version: int, at: int, event: Event) -> Span:
    return Span(kind, target, version, at, None, event.date, start_tag=event.tag)


def lanes(row: Sequence[Span], limit: int) -> list[int]:
    """A lane for each span of one row so that spans sharing a lane do not overlap (at most `limit` lanes)."""
    ends: list[float] = []  # lane → where its last span ends
    found = []
    for span in row:
        end = float("inf") if span.end is None else span.end
        lane = next((i for i, last in enumerate(ends) if last <= span.start), None)
        if lane is None:
            lane = len(ends) if len(ends) < limit else limit - 1
            if lane == len(ends):
                ends.append(end)
        ends[lane] = max(ends[lane], end)
        found.append(lane)
    return found
