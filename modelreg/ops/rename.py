"""Renaming a model that has no version yet (MLflow's `rename_registered_model`), as two events (DESIGN §3).

Nothing is rewritten: the rename is a `NEW#_create#SEQ` event carrying the old model's description, tags and
creation time (`created_millis`, with `renamed_from`), and an `OLD#_delete#SEQ` event whose reason says where it
went (`renamed_to`). Both are published in one ref transaction (or one atomic push): both names change, or
neither. `history` of either name shows its side; the old name no longer resolves or lists, and may be taken again.

A model with versions is refused (`NotSupported`): a version's name is in its git tag, its claim ref and its
(possibly signed) manifest, which never change, so renaming it would mean registering every version again under
the new name (docs/mlflow.md says how).
"""

from __future__ import annotations

from modelreg.core import mlflowmap
from modelreg.core.refs import NO_VERSION, check_name
from modelreg.errors import AlreadyExists, InvalidInputError, NotSupported
from modelreg.models import Event
from modelreg.publish.fetching import fetch_for_write
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.publish.push import publish, with_retries
from modelreg.read.reader import ModelView, Reader
from modelreg.results import RenameResult


def rename(reader: Reader, publisher: Publisher, old: str, new: str, opts: WriteOptions) -> RenameResult:
    """Rename model `old`, which has no version, to `new`, which must not exist; `opts.reason` is added to both."""
    check_name(old)
    check_name(new)
    if old == new:
        raise InvalidInputError(f"{old} is already called that: give a new name")
    target = publisher.target(opts)
    why = f" ({opts.reason.strip()})" if opts.reason and opts.reason.strip() else ""

    def attempt() -> RenameResult:
        view = reader.model(old)  # missing or deleted: NotFoundError
        refuse_versions(view, new)
        taken = reader.model(new, absent_ok=True)
        if taken.state.exists:
            raise AlreadyExists(f"model {new!r} already exists")
        state = view.state
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
        delete = EventDraft(
            "delete",
            "model",
            "_delete",
            NO_VERSION,
            f"{old} deleted (renamed to {new})",
            f"renamed to {new}{why}",
            extra={"renamed_to": new},
        )
        create_refs, made = publisher.make_event(target, taken, create)
        delete_refs, gone = publisher.make_event(target, view, delete)
        publish(reader.git, target, create_refs + delete_refs, f"modelreg: rename {made.tag} {gone.tag}")
        made = made._replace(
            description=state.description,
            set_tags=tuple(sorted(state.tags.items())),
            renamed=old,
            created_millis=first,
        )
        return RenameResult(old, new, made, gone._replace(renamed=new))

    def fetch() -> None:
        fetch_for_write(reader, target, old)
        fetch_for_write(reader, target, new)

    return with_retries(target, fetch, attempt)


def refuse_versions(view: ModelView, new: str) -> None:
    """A model with versions is not renamed: their names are in their tags, claim refs and manifests."""
    state = view.state
    if state.versions:
        listed = ", ".join(f"v{v}" for v in state.versions)
        raise NotSupported(
            f"renaming a model is not supported once it has versions ({state.name} has {listed}): a version's name "
            f"is in its git tag, claim ref and manifest (signed where the registry signs), which never change; "
            f"register the versions under {new} (MLflow's copy_model_version, or `modelreg register`) and delete "
            f"{state.name}"
        )


def created_millis(event: Event) -> int:
    """When the model a `create` event made was first created, in milliseconds: carried over by a rename."""
    return event.created_millis or event.millis or mlflowmap.millis(event.date)
