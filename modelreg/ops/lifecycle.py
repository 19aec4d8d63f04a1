"""Events about a whole model, and edits of a version's metadata: retire, unretire, describe, update.

Each is an event like a promotion (DESIGN §3): an annotated tag and its claim ref, signed when the
registry requires it, written in one transaction or pushed atomically, redone on top when another
writer took the seq. Their targets start with `_` (refs.MODEL_TARGETS), which no stage or alias
name can: `fraud#_retire#9`, `fraud#_unretire#10`, `fraud#_describe#11`, `fraud#_update#12`, and
`fraud#_create#1`, which makes a model exist before its first version (with version 0, as a describe
or delete of such a model: they concern no version and tag the commit of the policy of record).

- A model-level event tags the commit of the model's latest version, and records that version.
- `update` tags the edited version's commit; the new manifest is committed to the branch, and
  branch, tag and claim ref are published together.

Retiring needs no review, even when the model holds a review-required stage: it only takes things
out of serving (stages, aliases and the latest no longer resolve), never puts a version into it,
and `unretire` gives back exactly the stages and aliases that earlier, reviewed events gave.
Restrict who may sign them with `signers: {_retire: [...], _unretire: [...]}`.
"""

from __future__ import annotations

from typing import Any

from modelreg.core.refs import NO_VERSION, ModelRef, check_name
from modelreg.core.values import check_model_tags
from modelreg.errors import AlreadyExists, InvalidInputError, NotFoundError
from modelreg.formats import manifest as manifestmod
from modelreg.models import Action, Event, Scalar
from modelreg.ops.assign import write
from modelreg.publish.options import WriteArgs, WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.read.reader import ModelView, Reader, registration
from modelreg.results import UpdateResult


class EditArgs(WriteArgs, total=False):
    """`Registry.update`'s and `Registry.describe`'s keywords: what to change, and how the write goes."""

    description: str | None
    tags: dict[str, Scalar] | None
    remove_tags: tuple[str, ...]
    branch: str | None  # update only: the branch to commit to


def edit_options(args: EditArgs) -> tuple[str | None, dict[str, Scalar] | None, tuple[str, ...], WriteOptions]:
    """(description, tags, tags to remove, write options) of `args`."""
    opts = WriteOptions(args.get("push"), args.get("remote"), args.get("sign"), args.get("reason"))
    return args.get("description"), args.get("tags"), args.get("remove_tags", ()), opts


def retire(reader: Reader, publisher: Publisher, name: str, opts: WriteOptions, *, back: bool = False) -> Event:
    """Retire model `name` (or, with `back`, return it to service)."""
    check_name(name)
    if not opts.reason or not opts.reason.strip():
        raise InvalidInputError(f"say why with a reason: {'unretiring' if back else 'retiring'} a model is audited")

    def draft(view: ModelView) -> EventDraft:
        state = view.state
        if back and state.retired is None:
            raise InvalidInputError(f"{name} is not retired")
        if not back and state.retired is not None:
            raise InvalidInputError(f"{name} is already retired ({state.retired})")
        if state.latest is None:
            raise InvalidInputError(f"{name} has no version to retire: delete it instead")
        action: Action = "unretire" if back else "retire"
        subject = f"{name} back in service" if back else f"{name} retired"
        return EventDraft(action, "model", f"_{action}", state.latest, subject, opts.reason)

    return write(reader, publisher, name, opts, draft)


def describe(reader: Reader, publisher: Publisher, name: str, args: EditArgs) -> Event:
    """Set the model's own description and tags (not a version's)."""
    description, tags, remove_tags, opts = edit_options(args)
    check_name(name)
    if description is None and not tags and not remove_tags:
        raise InvalidInputError("nothing to describe: give a description, tags to set or tags to remove")
    new_tags = check_model_tags(tags or {})

    def draft(view: ModelView) -> EventDraft:
        state = view.state
        unknown = [key for key in remove_tags if key not in state.tags]
        if unknown:
            raise NotFoundError(f"{name} has no model tag {', '.join(map(repr, unknown))}")
        after = {k: v for k, v in state.tags.items() if k not in remove_tags} | new_tags
        if (description in (None, state.description)) and after == dict(state.tags):
            raise InvalidInputError(f"{name} already has that description and those tags")
        extra = _changes(description, new_tags, remove_tags)
        return EventDraft(
            "describe", "model", "_describe", state.latest or NO_VERSION, f"{name} described", opts.reason, extra=extra
        )

    made = write(reader, publisher, name, opts, draft)
    return _with_changes(made, description, new_tags, remove_tags)


def update(reader: Reader, publisher: Publisher, name: str, version: int, args: EditArgs) -> UpdateResult:
    """Commit the version's new description and tags, and record the change as a `_update` event."""
    description, tags, remove_tags, opts = edit_options(args)
    target = publisher.target(opts, args.get("branch"), commits=True)
    check_name(name)
    if description is None and not tags and not remove_tags:
        raise InvalidInputError("nothing to update: give --description, --tag or --remove-tag")
    extra_tags = check_model_tags(tags or {})
    reader.git.identity()

    def attempt() -> UpdateResult:
        base, move_from = publisher.commit_base(target)
        view = reader.model(name)
        reader.select(view.state, ModelRef(name, version=version))
        # The branch being committed to holds the latest description and tags, not the work tree.
        current = reader.read_manifest(name, version, registration(view.events, version).commit, base)
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
        commit, blobs = reader.git.commit_files(base, {rel: text}, f"modelreg: update {name} v{version}")
        extra = {**_changes(description, extra_tags, remove_tags), "manifest_commit": commit}
        draft = EventDraft(
            "update", "version", "_update", version, f"{name} v{version} updated", opts.reason, extra=extra
        )
        refs, event = publisher.make_event(target, view, draft)
        warnings = publisher.publish_commit(
            target, move_from, commit, {rel: (text, blobs[rel])}, refs, f"modelreg: update {name} v{version}"
        )
        return UpdateResult(updated, commit, warnings, _with_changes(event, description, extra_tags, remove_tags))

    return publisher.retry(target, name, attempt)


def _changes(description: str | None, tags: dict[str, Any], removed: tuple[str, ...]) -> dict[str, Any]:
    return {"description": description, "tags": tags, "removed_tags": sorted(removed)}


def _with_changes(event: Event, description: str | None, tags: dict[str, Any], removed: tuple[str, ...]) -> Event:
    return event._replace(
        description=description, set_tags=tuple(sorted(tags.items())), removed_tags=tuple(sorted(removed))
    )


def create(reader: Reader, publisher: Publisher, name: str, args: EditArgs) -> Event:
    """Make model `name` exist before its first version, with a description and tags (MLflow's registered model).

    A `_create` event (`NAME#_create#SEQ`, version 0: it concerns no version); a model that exists is a conflict.
    """
    description, tags, _, opts = edit_options(args)
    description = description or ""
    check_name(name)
    new_tags = check_model_tags(tags or {})

    def attempt() -> Event:
        view = reader.model(name, absent_ok=True)
        if view.state.exists:
            raise AlreadyExists(f"model {name!r} already exists")
        extra = _changes(description, new_tags, ())
        draft = EventDraft("create", "model", "_create", NO_VERSION, f"{name} created", opts.reason, extra=extra)
        return publisher.write_event(target, view, draft)

    target = publisher.target(opts)
    made = publisher.retry(target, name, attempt)
    return _with_changes(made, description, new_tags, ())
