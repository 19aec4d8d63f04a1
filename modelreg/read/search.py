"""Search: the versions the policy admits, filtered and ordered with MLflow's grammar (see filtering).

A version's stage and aliases are the replay of the admitted events, exactly as `list`, `show`
and `resolve` see them; a version the policy leaves out is not there to be found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from modelreg.core import filtering, selecting
from modelreg.core.filterfields import OrderKey
from modelreg.errors import InvalidInputError
from modelreg.models import Event, ModelVersion, SearchResult
from modelreg.paths import cache_dir
from modelreg.read import listing, searchlean
from modelreg.read.manifestbatch import Batch
from modelreg.read.reader import Reader
from modelreg.read.when import When


class SearchArgs(TypedDict, total=False):
    """`Registry.search`'s keywords."""

    model: str | None
    order_by: Sequence[str]
    limit: int | None
    at: When | None


def search(
    reader: Reader,
    filter_: str | None = None,
    *,
    model: str | None = None,
    order_by: Sequence[str] = (),
    limit: int | None = None,
    at: When | None = None,
) -> SearchResult:
    """The versions matching `filter_` (every version when empty), ordered by `order_by`, at most `limit`.

    With `at`, stages and aliases are as they were then, and only versions registered by then are searched.
    """
    parsed = filtering.parse_filter(filter_)
    order = filtering.parse_order_by(order_by)
    if limit is not None and limit < 1:
        raise InvalidInputError(f"the limit must be at least 1, not {limit}")
    if at is None and listing.worth_it(reader.context) and not _needs_state(parsed, order):
        found = searchlean.candidates(reader, model)
        if found is not None and (result := _search(reader, model, found, parsed, order, limit)) is not None:
            return result
    views = reader.views(model, at)
    aliases: dict[str, dict[int, tuple[str, ...]]] = {}
    for view in views:
        held = aliases.setdefault(view.state.name, {})
        for alias, version in sorted(view.state.aliases.items()) if view.state.retired is None else ():
            held[version] = (*held.get(version, ()), alias)
    by_name = {view.state.name: view for view in views}

    def shown(event: Event) -> tuple[str | None, tuple[str, ...]]:
        """The version's stage and aliases (a retired model's stages no longer resolve)."""
        state = by_name[event.name].state
        stage = state.stages.get(event.version) if state.retired is None else None
        return stage, aliases[event.name].get(event.version, ())

    registrations = []
    for view in views:
        admitted = set(view.state.versions)
        registrations += [e for e in view.events if e.action == "register" and e.version in admitted]
    found = searchlean.Found(
        registrations,
        shown,
        shown,
        lambda: [w for view in views for w in view.rejected],
        lambda name: by_name[name].rejected,
        lambda: False,
    )
    result = _search(reader, model, found, parsed, order, limit)
    assert result is not None  # the full replay refuses nothing after the fact
    return result


def _needs_state(parsed: filtering.Filter, order: Sequence[OrderKey]) -> bool:
    """Whether the filter or the order reads a version's stage or aliases (the replay of every admitted event)."""
    fields = {c.field for c in parsed.clauses} | {k.field for k in order}
    return bool(fields & {"stage", "alias"})


def _search(
    reader: Reader,
    model: str | None,
    found: searchlean.Found,
    parsed: filtering.Filter,
    order: Sequence[OrderKey],
    limit: int | None,
) -> SearchResult | None:
    """The search over `found`; None when a check its results leaned on failed (see searchlean)."""
    branch_rev = "refs/remotes/origin/HEAD" if reader.source else None
    batch = Batch(reader.git, found.registrations, branch_rev, cache_dir(), scope=model or "*")
    warnings: list[str] = []

    def cheap(event: Event) -> filtering.SearchRecord:
        """What the filter's order may need without the manifest."""
        stage, named = found.matched_on(event)
        return filtering.SearchRecord(event.name, event.version, (stage,) if stage else (), named)

    def seen(event: Event) -> filtering.SearchRecord | None:
        """The version as the filter sees it; None (and a warning) when its manifest cannot be read."""
        plain = batch.plain((event.name, event.version))
        if plain is None:
            why = batch.problems.get((event.name, event.version), "its manifest cannot be read")
            warnings.append(f"ignoring {event.tag}: {why}")
            return None
        if event.digest is not None and event.digest != plain[4][1]:
            warnings.append(f"ignoring {event.tag}: it records {event.digest}, its manifest another digest")
            return None
        return plain_record(plain, *found.matched_on(event))

    def prefetch(items: Sequence[Event]) -> None:
        batch.prefetch((event.name, event.version) for event in items)

    matched = selecting.select(found.registrations, parsed, order, limit, view=seen, cheap=cheap, prefetch=prefetch)
    batch.keep()
    shown = [found.shown(event) for event in matched]  # a lean read checks what it shows here (searchlean)
    if found.refused():
        return None
    store = reader.config.store
    versions = tuple(
        ModelVersion(batch.manifest((e.name, e.version)), stage, aliases, e.commit, found.rejected(e.name), store)
        for e, (stage, aliases) in zip(matched, shown, strict=True)
    )
    return SearchResult(versions, tuple(dict.fromkeys(found.warnings() + warnings)))


def plain_record(plain: tuple[Any, ...], stage: str | None, aliases: tuple[str, ...]) -> filtering.SearchRecord:
    """What a filter sees of a version, from its manifest as plain data (see manifestbatch)."""
    name, version, created_at, created_by, _art, _description, params, metrics, lineage, _training, tags, _extra = plain
    return filtering.SearchRecord(
        name, version, (stage,) if stage else (), aliases, metrics, params, tags, created_at, created_by, *lineage[2:4]
    )
