"""Events about a whole model, and edits of a version's metadata: retire, unretire, describe, update.

Each is an event like a promotion (DESIGN §3): an annotated tag and its claim ref, signed when the
registry requires it, written in one transaction or pushed atomically, redone on top when another
writer took the seq. Their targets start with `_` (refs.MODEL_TARGETS), which no stage or alias
name can: `fraud#_retire#9`, `fraud#_unretire#10`, `fraud#_describe#11`, `fraud#_update#12`.

- A model-level event tags the commit of the model's latest version, and records that version.
- `update` tags the edited version's commit; the new manifest is committed to the branch, and
  branch, tag and claim ref are published together.

Retiring needs no review, even when the model holds a review-required stage: it only takes things
out of serving (stages, aliases and the latest no longer resolve), never puts a version into it,
and `unretire` gives back exactly the stages and aliases that earlier, reviewed events gave.
Restrict who may sign them with `signers: {_retire: [...], _unretire: [...]}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelreg.core.refs import ModelRef, check_name
from modelreg.core.values import check_scalars
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.formats import manifest as manifestmod
from modelreg.read.reader import registration

if TYPE_CHECKING:
    from modelreg.models import Action, Event, Scalar
    from modelreg.publish.push import Target
    from modelreg.results import UpdateResult
    from modelreg.writer import Writer


def retire(reg: Writer, dest: Target, name: str, reason: str, *, back: bool = False) -> Event:
    """Retire model `name` (or, with `back`, return it to service)."""
    check_name(name)
    if not reason or not reason.strip():
        raise InvalidInputError(f"say why with a reason: {'unretiring' if back else 'retiring'} a model is audited")

    def attempt() -> Event:
        state, events, snap, _ = reg.model(name)
        if back and state.retired is None:
            raise InvalidInputError(f"{name} is not retired")
        if not back and state.retired is not None:
            raise InvalidInputError(f"{name} is already retired ({state.retired})")
        latest = state.latest
        assert latest is not None
        action: Action = "unretire" if back else "retire"
        subject = f"{name} back in service" if back else f"{name} retired"
        return reg.write_event(dest, state, events, snap, action, "model", f"_{action}", latest, subject, reason)

    return reg.retry(dest, name, attempt)


def describe(
    reg: Writer,
    dest: Target,
    name: str,
    description: str | None,
    tags: dict[str, Scalar] | None,
    remove_tags: tuple[str, ...],
    reason: str | None,
) -> Event:
    """Set the model's own description and tags (not a version's)."""
    check_name(name)
    if description is None and not tags and not remove_tags:
        raise InvalidInputError("nothing to describe: give a description, tags to set or tags to remove")
    new_tags = check_scalars(tags or {}, "tags")

    def attempt() -> Event:
        state, events, snap, _ = reg.model(name)
        unknown = [key for key in remove_tags if key not in state.tags]
        if unknown:
            raise NotFoundError(f"{name} has no model tag {', '.join(map(repr, unknown))}")
        after = {k: v for k, v in state.tags.items() if k not in remove_tags} | new_tags
        if (description in (None, state.description)) and after == dict(state.tags):
            raise InvalidInputError(f"{name} already has that description and those tags")
        extra = _changes(description, new_tags, remove_tags)
        latest = state.latest
        assert latest is not None
        made = reg.write_event(
            dest,
            state,
            events,
            snap,
            "describe",
            "model",
            "_describe",
            latest,
            f"{name} described",
            reason,
            extra=extra,
        )
        return _with_changes(made, description, new_tags, remove_tags)

    return reg.retry(dest, name, attempt)


def update(
    reg: Writer,
    dest: Target,
    name: str,
    version: int,
    description: str | None,
    tags: dict[str, Scalar] | None,
    remove_tags: tuple[str, ...],
    reason: str | None,
) -> UpdateResult:
    """Commit the version's new description and tags, and record the change as a `_update` event."""
    check_name(name)
    if description is None and not tags and not remove_tags:
        raise InvalidInputError("nothing to update: give --description, --tag or --remove-tag")
    extra_tags = check_scalars(tags or {}, "tags")
    reg.git.identity()

    from modelreg.results import UpdateResult

    def attempt() -> UpdateResult:
        base, move_from = reg._commit_base(dest)
        state, events, snap, _ = reg.model(name)
        reg.select(state, ModelRef(name, version=version))
        # The branch being committed to holds the latest description and tags, not the work tree.
        current = reg.read_manifest(name, version, registration(events, version).commit, base)
        unknown = [key for key in remove_tags if key not in current.tags]
        if unknown:
            raise NotFoundError(f"{name} v{version} has no tag {', '.join(map(repr, unknown))}")
        new_tags = {k: v for k, v in current.tags.items() if k not in remove_tags} | extra_tags
        new_description = current.description if description is None else description
        updated = current._replace(description=new_description, tags=new_tags)
        if updated == current:
            return UpdateResult(current, None)
        rel = manifestmod.manifest_path(name, version)
        text = manifestmod.to_yaml(updated)
        commit, blobs = reg.git.commit_files(base, {rel: text}, f"modelreg: update {name} v{version}")
        extra = {**_changes(description, extra_tags, remove_tags), "manifest_commit": commit}
        refs, event = reg.make_event(
            dest, state, events, snap, "update", "version", "_update", version, f"{name} v{version} updated", reason,
            extra=extra,
        )  # fmt: skip
        warnings = reg._publish_commit(
            dest, move_from, commit, rel, text, blobs[rel], refs, f"modelreg: update {name} v{version}"
        )
        return UpdateResult(updated, commit, warnings, _with_changes(event, description, extra_tags, remove_tags))

    return reg.retry(dest, name, attempt)


def _changes(description: str | None, tags: dict[str, Any], removed: tuple[str, ...]) -> dict[str, Any]:
    return {"description": description, "tags": tags, "removed_tags": sorted(removed)}


def _with_changes(event: Event, description: str | None, tags: dict[str, Any], removed: tuple[str, ...]) -> Event:
    return event._replace(
        description=description, set_tags=tuple(sorted(tags.items())), removed_tags=tuple(sorted(removed))
    )
