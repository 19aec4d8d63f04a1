"""Deleting a version or a whole model, as MLflow users expect, with git's audit kept (DESIGN §3).

A deletion is an event like any other: an annotated tag `NAME#_delete#SEQ` with its claim ref, who,
when and why, signed when the registry requires it. It is a tombstone: the version (or, for a model,
every version up to its latest) no longer resolves or lists, its stages and aliases are gone, while its
version tag, manifest and every earlier event stay in history. Version numbers are never reused: a
model registered again after its deletion goes on from the next number. Blobs only a deleted version
used are collected by `gc` once the deletion is older than gc's grace period (`collectable`).
"""

from __future__ import annotations

from modelreg.core.refs import NO_VERSION, ModelRef, check_name
from modelreg.errors import InvalidInputError
from modelreg.models import Event
from modelreg.ops.assign import write
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.read.reader import ModelView, Reader


def delete(reader: Reader, publisher: Publisher, name: str, version: int | None, opts: WriteOptions) -> Event:
    """Delete version `version` of `name`, or with None the whole model; a reason is required."""
    check_name(name)
    if not opts.reason or not opts.reason.strip():
        raise InvalidInputError("say why with a reason: a deletion is audited")

    def draft(view: ModelView) -> EventDraft:
        state = view.state
        if version is None:
            listed = f" (v{', v'.join(map(str, state.versions))})" if state.versions else ""
            return EventDraft(
                "delete", "model", "_delete", state.latest or NO_VERSION, f"{name} deleted{listed}", opts.reason
            )
        reader.select(state, ModelRef(name, version=version))
        return EventDraft("delete", "version", "_delete", version, f"{name} v{version} deleted", opts.reason)

    return write(reader, publisher, name, opts, draft)
