"""`list` under a policy with signatures or review: only the events that decide a row are checked (DESIGN §10).

A row of `list` shows a model's latest version, the holder of each stage, its aliases, its
retirement, description and tags. The lean read (read.lean) finds each of those from the events
that can decide it, newest first; here it runs over the snapshot every `list` reads anyway, and
its expensive checks are gathered rather than made: every model's signatures are then checked
in one batch, and review evidence for all of them at once. Where every check the walks leaned
on passes, their answers are the answers (a walk goes only where those answers led it); a
model where one fails is walked again with each check made as it is asked, and a model the
lean read leaves alone (deleted, never versioned, an order only the full replay settles) gets
the full replay. So the rows are the full replay's; only its count of versions is lighter: the
version tags their claim refs vouch for, whose signatures `verify` checks.
"""

from __future__ import annotations

from collections.abc import Callable

from modelreg.core.events import ARCHIVED
from modelreg.models import Event, ModelState, ModelSummary
from modelreg.read.admission import Deferred, Judge, Known, MovedTag, listing_of
from modelreg.read.context import Context
from modelreg.read.lean import Query, Undecided
from modelreg.read.snapshot import Snapshot


def worth_it(ctx: Context) -> bool:
    """Whether the policy asks for checks costly enough that checking only the deciding events pays."""
    return ctx.config.require_signed or bool(ctx.config.review_required)


def summaries(
    ctx: Context,
    snap: Snapshot,
    malformed: Callable[[str], tuple[str, ...]],
    full: Callable[[str], ModelSummary | None],
) -> list[ModelSummary]:
    """Every model's row of `list`, by name. `full(name)` is the full replay's row (None: the model does not
    exist); `malformed(name)` the warnings about its tags that are no events."""
    drafts: dict[str, tuple[ModelSummary | None, Deferred]] = {}
    for name, events in sorted(snap.events.items()):
        deferred = Deferred()
        drafts[name] = (_row(ctx, name, events, snap.claims, deferred), deferred)
    failed = refused(ctx, {name: deferred for name, (row, deferred) in drafts.items() if row is not None})
    rows = []
    for name, (row, _) in drafts.items():
        if row is not None and name in failed:  # a check the walk leaned on failed: walk again, checking as it goes
            row = _row(ctx, name, snap.events[name], snap.claims, None)
        if row is None:
            row = full(name)
            if row is not None:
                rows.append(row)
            continue
        rows.append(row._replace(warnings=row.warnings + malformed(name)))
    return rows


def row(state: ModelState, warnings: tuple[str, ...], stages: tuple[str, ...]) -> ModelSummary:
    """The row of `list` for a model's full replay."""
    # A retired model's stages and aliases no longer resolve: it is listed with none, and its retirement.
    holders = {s: h for s in stages if (h := state.stage_holder(s)) is not None}
    aliases = dict(sorted(state.aliases.items()))
    if state.retired is not None:
        holders, aliases = {}, {}
    return ModelSummary(
        state.name,
        state.latest,
        len(state.versions),
        holders,
        aliases,
        warnings,
        state.retired,
        state.description,
        state.tags,
    )


def _row(
    ctx: Context, name: str, events: list[Event], claims: dict[str, str], deferred: Deferred | None
) -> ModelSummary | None:
    judge = Judge(ctx, name, listing_of(events), Known({e.tag: e for e in events}, claims), deferred)
    try:
        return _summarise(Query(judge))
    except (Undecided, MovedTag):
        return None


def _summarise(query: Query) -> ModelSummary:
    judge, listing = query.judge, query.listing
    if not listing.versions or "_delete" in listing.targets:
        raise Undecided  # no version, or a tombstone: the full replay
    latest = query.latest()
    if latest is None:
        raise Undecided  # every version is left out: the full replay words it
    retired = query.retired()
    stages = query.config.stages
    holders, aliases = {}, {}
    if retired is None:  # a retired model's stages and aliases no longer resolve: not shown, not checked
        holders = {
            stage: holder
            for stage in stages
            if (holder := query.archived_holder() if stage == ARCHIVED else query.holder(stage)) is not None
        }
        aliases = {
            target: version
            for target, entries in listing.targets.items()
            if not target.startswith("_") and target not in stages
            if (version := query.alias_value(target, entries)) is not None
        }
    description, tags = query.described()
    return ModelSummary(
        judge.name,
        latest,
        judge.claimed_versions(),
        holders,
        dict(sorted(aliases.items())),
        judge.warnings(),
        retired,
        description,
        tags,
    )


def refused(ctx: Context, deferred: dict[str, Deferred]) -> set[str]:
    """The models where a check a walk took as passed fails: every signature in one batch, every review at once."""
    refused: set[str] = set()
    signed = {name: d.signed for name, d in deferred.items() if d.signed}
    if signed:
        from modelreg.read.sigverify import signature_findings  # see policy.rejections

        tags = {e.tag: name for name, events in signed.items() for e in events}
        for finding in signature_findings(ctx, signed):
            refused |= {tags[finding.subject]} if finding.subject in tags else set(signed)
    reviewed: dict[str, dict[str, Event]] = {}
    for name, d in deferred.items():
        for _, context in d.reviewed:
            reviewed.setdefault(name, {}).update((e.tag, e) for e in context)
    if reviewed:
        from modelreg.read.evidence import review_findings  # see policy.rejections

        asked = {event.tag: name for name, d in deferred.items() for event, _ in d.reviewed}
        batch = {name: sorted(events.values(), key=lambda e: (e.seq or 0, e.tag)) for name, events in reviewed.items()}
        refused |= {asked[f.subject] for f in review_findings(ctx, batch, named=True) if f.subject in asked}
    return refused
