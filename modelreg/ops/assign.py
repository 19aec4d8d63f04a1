"""Stages and aliases: promote, take out of a stage, set and remove an alias, roll back (DESIGN §3, §6).

Each is one event tag and its claim ref, written by the publisher, redone on top when another
writer took the seq. A stage under `review_required` is changed only through a reviewed request
(see reviews), except a rollback to a version that held it before.
"""

from __future__ import annotations

from collections.abc import Callable

from modelreg.core.events import current_holder, held_before, rollback_version, to_archive
from modelreg.core.refs import ModelRef, check_alias, check_name, stage_name
from modelreg.errors import InvalidInputError, NotFoundError, ReviewRequired
from modelreg.formats.config import CONFIG_PATH
from modelreg.models import Event, ModelState, TargetKind
from modelreg.ops.promoteview import promotion_view
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.read.reader import ModelView, Reader


def promote(
    reader: Reader,
    publisher: Publisher,
    name: str,
    version: int,
    stage: str,
    keep_existing: bool,
    opts: WriteOptions,
    *,
    archive_all: bool = False,
    view: ModelView | None = None,
) -> Event:
    """Assign `stage` to a version; a single-holder stage archives its previous holder.

    With `archive_all` (MLflow's `archive_existing_versions=True`), every other holder of the stage is archived.
    `view`: the model's full view, when the caller has just read it: the first attempt drafts from it (a view
    another writer has overtaken loses the claim ref's compare-and-swap, and the write is redone on a fresh one).
    """
    stage = stage_name(stage)
    config = reader.config

    def draft(view: ModelView) -> EventDraft:
        config.check_stage(stage)
        if stage in config.review_required:
            raise ReviewRequired(
                f"stage {stage!r} requires review (review_required in {CONFIG_PATH}): request it with "
                f"`modelreg promote {name}@{version} {stage} --request`, open a pull request, and CI "
                "applies it after the merge (`modelreg apply`)"
            )
        state = view.state
        in_service(state)
        reader.select(state, ModelRef(name, version=version))
        if state.stages.get(version) == stage:
            raise InvalidInputError(f"{name} v{version} is already in stage {stage!r}")
        single = archive_all or stage in config.single_holder
        archived = () if keep_existing else to_archive(state, version, stage, single)
        subject = f"{name} v{version} → {stage}" + (
            f" (archived {', '.join(f'v{v}' for v in archived)})" if archived else ""
        )
        return EventDraft("assign", "stage", stage, version, subject, opts.reason, archived)

    given = [view] if view is not None else []

    def view_of() -> ModelView:
        if given:
            return given.pop()
        if archive_all:  # every holder of the stage: the promotion view knows a single holder at most
            return reader.model(name)
        return promotion_view(reader, name, version, stage, stage in config.single_holder) or reader.model(name)

    return write(reader, publisher, name, opts, draft, view_of)


def remove_stage(reader: Reader, publisher: Publisher, name: str, version: int, opts: WriteOptions) -> Event:
    """Take a version out of its stage (an `unassign` event): MLflow's transition to stage "None"."""

    def draft(view: ModelView) -> EventDraft:
        reader.select(view.state, ModelRef(name, version=version))
        stage = view.state.stages.get(version)
        if stage is None:
            raise InvalidInputError(f"{name} v{version} is in no stage")
        return EventDraft("unassign", "stage", stage, version, f"{name} v{version} left {stage}", opts.reason)

    return write(reader, publisher, name, opts, draft)


def set_alias(reader: Reader, publisher: Publisher, name: str, alias: str, version: int, opts: WriteOptions) -> Event:
    """Point `alias` at a version (moving it if it points elsewhere)."""

    def draft(view: ModelView) -> EventDraft:
        check_alias(alias, reader.config.stages)
        state = view.state
        in_service(state)
        reader.select(state, ModelRef(name, version=version))
        if state.aliases.get(alias) == version:
            raise InvalidInputError(f"alias {alias!r} already points at {name} v{version}")
        return EventDraft("assign", "alias", alias, version, f"{name}@{alias} → v{version}", opts.reason)

    return write(reader, publisher, name, opts, draft)


def remove_alias(reader: Reader, publisher: Publisher, name: str, alias: str, opts: WriteOptions) -> Event:
    """Remove `alias` from the version it points at."""

    def draft(view: ModelView) -> EventDraft:
        check_name(alias, "alias")
        in_service(view.state)
        if alias not in view.state.aliases:
            raise NotFoundError(f"{name} has no alias {alias!r}")
        version = view.state.aliases[alias]
        subject = f"{name}@{alias} removed (was v{version})"
        return EventDraft("unassign", "alias", alias, version, subject, opts.reason)

    return write(reader, publisher, name, opts, draft)


def rollback(
    reader: Reader,
    publisher: Publisher,
    name: str,
    stage: str | None,
    alias: str | None,
    to: int | None,
    opts: WriteOptions,
) -> Event:
    """Re-assign the version that held a stage (default `production`) or alias before the current one."""
    config = reader.config
    if stage is not None and alias is not None:
        raise InvalidInputError("give either a stage or an alias to roll back, not both")
    kind: TargetKind = "alias" if alias is not None else "stage"
    target = alias if alias is not None else (stage_name(stage) if stage is not None else "production")
    if stage is None and alias is None and "production" not in config.stages:
        raise InvalidInputError("no 'production' stage is configured: say what to roll back with --stage or --alias")

    def draft(view: ModelView) -> EventDraft:
        if kind == "stage":
            config.check_stage(target)
        else:
            check_name(target, "alias")
        state = view.state
        in_service(state)
        if to is not None:
            reader.select(state, ModelRef(name, version=to))
        version = rollback_version(state, kind, target, to)
        if kind == "stage" and target in config.review_required and not held_before(view.events, kind, target, version):
            raise InvalidInputError(
                f"v{version} never held review-required stage {target!r}: giving it the stage needs a "
                f"reviewed request (`modelreg promote {name}@{version} {target} --request`)"
            )
        previous = current_holder(state, kind, target)
        archived = to_archive(state, version, target, target in config.single_holder) if kind == "stage" else ()
        label = f"{name}/{target}" if kind == "stage" else f"{name}@{target}"
        subject = f"{label} rolled back to v{version} (from v{previous})"
        return EventDraft("rollback", kind, target, version, subject, opts.reason, archived, {"from": previous})

    return write(reader, publisher, name, opts, draft)


def write(
    reader: Reader,
    publisher: Publisher,
    name: str,
    opts: WriteOptions,
    draft: Callable[[ModelView], EventDraft],
    view_of: Callable[[], ModelView] | None = None,
) -> Event:
    """Write the event `draft` makes of the model's current view (`view_of()`, by default the full one);
    redone on a fresh view when a writer raced us."""
    target = publisher.target(opts)
    check_name(name)

    def attempt() -> Event:
        view = view_of() if view_of is not None else reader.model(name)
        return publisher.write_event(target, view, draft(view))

    return publisher.retry(target, name, attempt)


def in_service(state: ModelState) -> None:
    """Stages and aliases of a retired model change only after `unretire`: they would not resolve anyway."""
    if state.retired is not None:
        raise InvalidInputError(
            f"{state.name} is retired ({state.retired}): bring it back with `modelreg unretire {state.name}` first"
        )
