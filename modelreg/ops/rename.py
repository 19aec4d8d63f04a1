"""Renaming a model (MLflow's `rename_registered_model`) by writing, never rewriting (DESIGN §3).

A model with no version yet: a `NEW#_create#SEQ` event carrying the old model's description, tags and creation
time (`created_millis`, with `renamed_from`), and an `OLD#_delete#SEQ` event whose reason says where it went
(`renamed_to`). A model with versions: they are registered again under the new name, and its events given back
(ops.renameversions), then the same `OLD#_delete#SEQ`. Everything is published in one ref transaction (or one
atomic push): both names change, or neither. `history` of either name shows its side; the old name no longer
resolves or lists, and may be taken again. A lost race is redone on a fresh read, as every write is.
"""

from __future__ import annotations

from modelreg.core import mlflowmap
from modelreg.core.refs import NO_VERSION, check_name
from modelreg.errors import AlreadyExists, InvalidInputError
from modelreg.models import Event
from modelreg.ops import renameversions
from modelreg.publish.fetching import fetch_for_write
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.publish.push import Target, publish, with_retries
from modelreg.read.reader import ModelView, Reader
from modelreg.results import RenameResult


def rename(reader: Reader, publisher: Publisher, old: str, new: str, opts: WriteOptions) -> RenameResult:
    """Rename model `old` to `new`, which must not exist; `opts.reason` is added to every event's reason."""
    check_name(old)
    check_name(new)
    if old == new:
        raise InvalidInputError(f"{old} is already called that: give a new name")
    target = publisher.target(opts)
    committing = _commit_target(publisher, opts)  # a model with versions: its copy is a commit on this branch
    why = f" ({opts.reason.strip()})" if opts.reason and opts.reason.strip() else ""

    def attempt() -> RenameResult:
        view = reader.model(old)  # missing or deleted: NotFoundError
        taken = reader.model(new, absent_ok=True)
        if taken.state.exists:
            raise AlreadyExists(f"model {new!r} already exists")
        state = view.state
        delete = EventDraft(
            "delete",
            "model",
            "_delete",
            state.latest or NO_VERSION,
            f"{old} deleted (renamed to {new})",
            f"renamed to {new}{why}",
            extra={"renamed_to": new},
        )
        if state.versions:
            copy_target = committing or publisher.target(opts, commits=True)  # detached HEAD: refused in its words
            return _with_versions(reader, publisher, copy_target, view, new, delete, why)
        created = next(e for e in view.events if e.tag == state.created)  # a model without versions was created
        first = created_millis(created)
        extra = {
            "description": state.description,
            "tags": dict(state.tags),
            "removed_tags": [],
            "renamed_from": old,
            "created_millis": first,
        }
        subject = f"{new} created (renamed from {old})"
        create = EventDraft("create", "model", "_create", NO_VERSION, subject, f"renamed from {old}{why}", extra=extra)
        create_refs, made = publisher.make_event(target, taken, create)
        delete_refs, gone = publisher.make_event(target, view, delete)
        publish(reader.git, target, create_refs + delete_refs, f"modelreg: rename {made.tag} {gone.tag}")
        made = made._replace(
            description=state.description,
            set_tags=tuple(sorted(state.tags.items())),
            renamed=old,
            created_millis=first,
        )
        return RenameResult(old, new, gone._replace(renamed=new), made)

    def fetch() -> None:
        fetch_for_write(reader, committing or target, old)
        fetch_for_write(reader, committing or target, new)

    return with_retries(target, fetch, attempt)


def _commit_target(publisher: Publisher, opts: WriteOptions) -> Target | None:
    """Where a copy of the versions is committed: the checked-out branch; None on a detached HEAD (a model
    without versions needs no commit)."""
    try:
        return publisher.target(opts, commits=True)
    except InvalidInputError:
        return None


def _with_versions(
    reader: Reader, publisher: Publisher, target: Target, view: ModelView, new: str, delete: EventDraft, why: str
) -> RenameResult:
    """The versions registered again under `new` (ops.renameversions) and the old model deleted, in one publish."""
    old = view.state.name
    base, move_from = publisher.commit_base(target)
    commit, files, refs = renameversions.copy_refs(reader, publisher, target, view, new, base, why)
    delete_refs, gone = publisher.make_event(target, view, delete)
    warnings = publisher.publish_commit(
        target, move_from, commit, files, refs + delete_refs, f"modelreg: rename {old} to {new}"
    )
    return RenameResult(old, new, gone._replace(renamed=new), None, view.state.versions, warnings)


def created_millis(event: Event) -> int:
    """When the model a `create` event made was first created, in milliseconds: carried over by a rename."""
    return event.created_millis or event.millis or mlflowmap.millis(event.date)
