"""Deleting a version or a whole model, as MLflow users expect, with git's audit kept (DESIGN §3).

A deletion is an event like any other: an annotated tag `NAME#_delete#SEQ` with its claim ref, who,
when and why, signed when the registry requires it. It is a tombstone: the version (or, for a model,
every version up to its latest) no longer resolves or lists, its stages and aliases are gone, while its
version tag, manifest and every earlier event stay in history. Version numbers are never reused: a
model registered again after its deletion goes on from the next number. Blobs only a deleted version
used are collected by `gc` once the deletion is older than gc's grace period (`collectable`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from modelreg.core.events import replay
from modelreg.core.refs import ModelRef, check_name
from modelreg.errors import InvalidInputError
from modelreg.models import Event
from modelreg.ops.assign import write
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.read.policy import admit
from modelreg.read.reader import ModelView, Reader
from modelreg.read.snapshot import Snapshot


def delete(reader: Reader, publisher: Publisher, name: str, version: int | None, opts: WriteOptions) -> Event:
    """Delete version `version` of `name`, or with None the whole model; a reason is required."""
    check_name(name)
    if not opts.reason or not opts.reason.strip():
        raise InvalidInputError("say why with a reason: a deletion is audited")

    def draft(view: ModelView) -> EventDraft:
        state = view.state
        if version is None:
            assert state.latest is not None
            subject = f"{name} deleted (v{', v'.join(map(str, state.versions))})"
            return EventDraft("delete", "model", "_delete", state.latest, subject, opts.reason)
        reader.select(state, ModelRef(name, version=version))
        return EventDraft("delete", "version", "_delete", version, f"{name} v{version} deleted", opts.reason)

    return write(reader, publisher, name, opts, draft)


def collectable(reg: Reader, snap: Snapshot, grace_s: float) -> set[tuple[str, int]]:
    """(model, version) of every version deleted, by an event the policy admits, more than `grace_s` ago.

    `gc` leaves their blobs unreferenced (a blob another version uses stays referenced through it).
    """
    cutoff = datetime.now(UTC).timestamp() - grace_s
    gone: set[tuple[str, int]] = set()
    for model, events in snap.events.items():
        admitted, _ = admit(reg.context, model, events, snap.claims)
        old = [e for e in admitted if e.action != "delete" or _epoch(e.date) < cutoff]
        registered = {e.version for e in admitted if e.action == "register"}
        gone |= {(model, v) for v in registered - set(replay(model, old).versions)}
    return gone


def _epoch(date: str) -> float:
    try:
        return datetime.fromisoformat(date).timestamp()
    except ValueError:
        return float("inf")  # an undated deletion is never old enough
