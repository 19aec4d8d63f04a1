"""Search: the versions the policy admits, filtered and ordered with MLflow's grammar (see filtering).

A version's stage and aliases are the replay of the admitted events, exactly as `list`, `show`
and `resolve` see them; a version the policy leaves out is not there to be found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from modelreg.core import filtering, selecting
from modelreg.errors import InvalidInputError
from modelreg.models import Event, ModelVersion, SearchResult
from modelreg.paths import cache_dir
from modelreg.read.manifestbatch import Batch
from modelreg.read.reader import ModelView, Reader
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
    views = reader.views(model, at)
    registrations = []
    for view in views:
        admitted = set(view.state.versions)
        registrations += [e for e in view.events if e.action == "register" and e.version in admitted]
    branch_rev = "refs/remotes/origin/HEAD" if reader.source else None
    batch = Batch(reader.git, registrations, branch_rev, cache_dir(), scope=model or "*")
    warnings = [w for v in views for w in v.rejected]
    by_name = {view.state.name: view for view in views}
    candidates = [(by_name[event.name], event) for event in registrations]

    aliases: dict[str, dict[int, tuple[str, ...]]] = {}
    for view in views:
        held = aliases.setdefault(view.state.name, {})
        for alias, version in sorted(view.state.aliases.items()) if view.state.retired is None else ():
            held[version] = (*held.get(version, ()), alias)

    def shown(view: ModelView, event: Event) -> tuple[str | None, tuple[str, ...]]:
        """The version's stage and aliases (a retired model's stages no longer resolve)."""
        stage = view.state.stages.get(event.version) if view.state.retired is None else None
        return stage, aliases[event.name].get(event.version, ())

    def cheap(item: tuple[ModelView, Event]) -> filtering.SearchRecord:
        """What the filter's order may need without the manifest."""
        stage, named = shown(*item)
        return filtering.SearchRecord(item[1].name, item[1].version, (stage,) if stage else (), named)

    def seen(item: tuple[ModelView, Event]) -> filtering.SearchRecord | None:
        """The version as the filter sees it; None (and a warning) when its manifest cannot be read."""
        view, event = item
        plain = batch.plain((event.name, event.version))
        if plain is None:
            why = batch.problems.get((event.name, event.version), "its manifest cannot be read")
            warnings.append(f"ignoring {event.tag}: {why}")
            return None
        if event.digest is not None and event.digest != plain[4][1]:
            warnings.append(f"ignoring {event.tag}: it records {event.digest}, its manifest another digest")
            return None
        return plain_record(plain, *shown(view, event))

    def prefetch(items: Sequence[tuple[ModelView, Event]]) -> None:
        batch.prefetch((event.name, event.version) for _view, event in items)

    matched = selecting.select(candidates, parsed, order, limit, view=seen, cheap=cheap, prefetch=prefetch)
    batch.keep()
    store = reader.config.store
    versions = tuple(
        ModelVersion(
            batch.manifest((event.name, event.version)),
            view.state.stages.get(event.version) if view.state.retired is None else None,
            view.state.aliases_of(event.version) if view.state.retired is None else (),
            event.commit,
            view.rejected,
            store,
        )
        for view, event in matched
    )
    return SearchResult(versions, tuple(dict.fromkeys(warnings)))


def plain_record(plain: tuple[Any, ...], stage: str | None, aliases: tuple[str, ...]) -> filtering.SearchRecord:
    """What a filter sees of a version, from its manifest as plain data (see manifestbatch)."""
    name, version, created_at, created_by, _art, _description, params, metrics, lineage, _training, tags, _extra = plain
    return filtering.SearchRecord(
        name, version, (stage,) if stage else (), aliases, metrics, params, tags, created_at, created_by, *lineage[2:4]
    )
