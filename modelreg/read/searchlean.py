"""`search` under a policy with signatures or review: only the versions it shows are checked (DESIGN §10).

When neither the filter nor the order reads a stage or an alias, which versions match depends
on their manifests alone, and a version is there to be found when its version tag is claimed.
The search then runs over every claimed version; the versions it shows are checked as `resolve`
checks them: the version tag's signature, and the events that give the version its stage and
aliases (read.lean's walks over the snapshot, their checks gathered and made in one batch). If
one of those checks fails, the search is run again over the full replay, which leaves the
refused tags out and says why. A filter on a stage or an alias needs every version's stage: the
full replay decides it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from modelreg.core.refs import check_name
from modelreg.models import Event
from modelreg.read.admission import Deferred, Judge, Known, MovedTag, listing_of
from modelreg.read.lean import Query, Undecided
from modelreg.read.listing import refused
from modelreg.read.reader import Reader, malformed

Shown = Callable[[Event], tuple[str | None, tuple[str, ...]]]


class Found(NamedTuple):
    """The versions a search runs over, and how it learns what it shows of them."""

    registrations: list[Event]  # every version there to be found, in the order a full read lists them
    matched_on: Shown  # the stage and aliases the filter sees of a version
    shown: Shown  # the stage and aliases a result shows (a lean search checks them here)
    warnings: Callable[[], list[str]]  # what the policy left out, once the results are shown
    rejected: Callable[[str], tuple[str, ...]]  # the same, of one model
    refused: Callable[[], bool]  # whether a check the results leaned on failed (then: the full replay)


def candidates(reader: Reader, model: str | None) -> Found | None:
    """The claimed versions of `model` (every model when None), checked as they are shown; None: the full read."""
    snap = reader.snapshot(check_name(model) if model is not None else None)
    if model is not None and model not in snap.events:
        return None  # the full read words what is missing
    queries: dict[str, Query] = {}
    deferred: dict[str, Deferred] = {}
    registrations: list[Event] = []
    for name, events in sorted(snap.events.items()):
        listing = listing_of(events)
        if "_delete" in listing.targets:
            return None  # a tombstone removes versions: the full replay
        deferred[name] = Deferred()
        judge = Judge(reader.context, name, listing, Known({e.tag: e for e in events}, snap.claims), deferred[name])
        queries[name] = Query(judge)
        try:
            claimed = {entry.tag for entry in listing.versions.values() if judge.claimed(entry)}
        except MovedTag:
            return None  # a claim names another tag object: the full read applies it
        registrations += [e for e in events if e.seq is None and e.tag in claimed]
    retired: dict[str, bool] = {}
    failed: set[str] = set()

    def shown(event: Event) -> tuple[str | None, tuple[str, ...]]:
        query = queries[event.name]
        try:
            if query.judge.registration(event.version) is None:
                raise Undecided
            if event.name not in retired:
                retired[event.name] = query.retired() is not None
            if retired[event.name]:  # a retired model's stages and aliases no longer resolve
                return None, ()
            return query.stage_of(event.version), query.aliases_of(event.version)
        except (Undecided, MovedTag):
            failed.add(event.name)
            return None, ()

    def rejected(name: str) -> tuple[str, ...]:
        return queries[name].judge.warnings() + malformed(snap.problems, name)

    return Found(
        registrations,
        lambda event: (None, ()),
        shown,
        lambda: [w for name in queries for w in rejected(name)],
        rejected,
        lambda: bool(failed) or bool(refused(reader.context, deferred)),
    )
