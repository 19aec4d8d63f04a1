"""Renaming a model that has versions: every version registered again under the new name, in one write.

Nothing of the old model is rewritten. One commit adds a manifest for each of its versions under the new name
(the same version numbers, bytes, description, tags, params, metrics and lineage; `origin.renamed_from` names
`OLD@vN`), each tagged `NEW@vN` with its claim ref; then the new name's events give back the model's description
and tags (`_describe`), stages and aliases, and the old model's `_delete` says where it went. The commit, every
tag and claim ref are published together (one ref transaction, or one atomic push): both names change, or neither.

Refused (`NotSupported`), because the copy would not be the same model: a retired model (unretire it first), one
with deleted versions (its numbers would not run 1..N under the new name), a new name whose version numbers a
deleted model took, and a stage under `review_required` (only a reviewed request may give it: request it under
the new name after renaming, or rename before promoting).
"""

from __future__ import annotations

from typing import Any

from modelreg.core.events import event_message
from modelreg.core.refs import NO_VERSION, claim_ref, event_tag, version_claim_ref, version_tag
from modelreg.errors import NotSupported
from modelreg.formats import manifest as manifestmod
from modelreg.models import Manifest
from modelreg.publish.numbering import highest_version
from modelreg.publish.publisher import EventDraft, Publisher, stamp_millis
from modelreg.publish.push import Target
from modelreg.read.reader import ModelView, Reader


def refusal(reader: Reader, view: ModelView, new: str) -> str | None:
    """Why the model in `view` cannot be copied under `new` as the same model, or None."""
    state, config = view.state, reader.config
    old = state.name
    if state.retired is not None:
        return f"{old} is retired ({state.retired}): unretire it first"
    latest = state.latest or 0
    if state.versions != tuple(range(1, latest + 1)):
        gone = sorted(set(range(1, latest + 1)) - set(state.versions))
        return f"{old} has deleted versions (v{', v'.join(map(str, gone))}): its numbers would not run 1..{latest}"
    held = sorted((v, s) for v, s in state.stages.items() if s in config.review_required)
    if held:
        version, stage = held[0]
        return (
            f"{old} v{version} holds stage {stage!r}, which requires review: only a reviewed request gives it "
            f"(rename before promoting, or request it under {new} once renamed)"
        )
    if highest_version(reader.git, new) > 0:
        return f"{new}'s version numbers were taken by a model deleted under that name"
    return None


def copy_refs(
    reader: Reader,
    publisher: Publisher,
    target: Target,
    view: ModelView,
    new: str,
    base: str | None,
    why: str = "",
) -> tuple[str, dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """(the commit adding the manifests, path → (text, blob), the refs of NEW's version tags and events)."""
    state = view.state
    old = state.name
    refused = refusal(reader, view, new)
    if refused is not None:
        raise NotSupported(f"renaming {old} to {new} is not supported: {refused}")
    registered = {e.version: e for e in view.events if e.action == "register"}
    wanted = [(v, registered[v].commit) for v in state.versions]
    manifests = reader.read_manifests(old, wanted, base)
    files = {manifestmod.manifest_path(new, m.version): manifestmod.to_yaml(_renamed(m, new)) for m in manifests}
    commit, blobs = reader.git.commit_files(base, files, f"modelreg: rename {old} to {new}")
    who, epoch, offset = reader.git.identity()
    ident, millis = f"{who} {epoch} {offset}", stamp_millis(epoch)
    refs: list[tuple[str, str]] = []
    drafts = _drafts(view, new, why)
    after = 1 if drafts and drafts[0].action == "create" else 0  # history: created, then its versions
    for manifest in manifests:
        version = manifest.version
        tag = version_tag(new, version)
        payload: dict[str, Any] = {
            "action": "register",
            "version": version,
            "digest": manifest.artifact.digest,
            "after": after,
            "millis": millis,
            "created_millis": registered[version].created_millis or registered[version].millis,
            "renamed_from": f"{old}@v{version}",
        }
        message = event_message(f"{new} v{version}: registered (renamed from {old})", payload)
        tag_object = publisher.tag_object(target, tag, commit, message, "", ident=ident)
        # no blob refs: a git store's are keyed by digest, and the old registration published these already
        refs += [(f"refs/tags/{tag}", tag_object), (version_claim_ref(new, version), tag_object)]
    for seq, draft in enumerate(drafts, start=1):
        tagged = publisher.versionless_commit() if draft.version == NO_VERSION else commit
        refs += _event_refs(publisher, target, new, seq, draft, tagged, ident, millis)
    return commit, {path: (text, blobs[path]) for path, text in files.items()}, refs


def _renamed(manifest: Manifest, new: str) -> Manifest:
    found = manifest.extra.get("origin")
    origin = {**(found if isinstance(found, dict) else {}), "renamed_from": f"{manifest.name}@v{manifest.version}"}
    return manifest._replace(name=new, extra={**manifest.extra, "origin": origin})


def _drafts(view: ModelView, new: str, why: str) -> list[EventDraft]:
    """NEW's events: the model's creation (when it was made before its first version) or its description and tags,
    then stages (in the order they were given) and aliases."""
    state = view.state
    old = state.name
    why = f"renamed from {old}{why}"
    drafts = []
    extra: dict[str, Any] = {"description": state.description, "tags": dict(state.tags), "removed_tags": []}
    created = next((e for e in view.events if e.tag == state.created), None)
    if created is not None:  # made before its first version (MLflow's create_registered_model): so is NEW
        first = created.created_millis or created.millis
        extra |= {"renamed_from": old, "created_millis": first}
        drafts.append(
            EventDraft(
                "create", "model", "_create", NO_VERSION, f"{new} created (renamed from {old})", why, extra=extra
            )
        )
    elif state.description or state.tags:
        latest = state.latest or NO_VERSION
        drafts.append(EventDraft("describe", "model", "_describe", latest, f"{new} described", why, extra=extra))
    for version, stage in sorted(state.stages.items(), key=lambda item: state.stage_since.get(item[0], 0)):
        drafts.append(EventDraft("assign", "stage", stage, version, f"{new} v{version} → {stage}", why))
    for alias, version in sorted(state.aliases.items()):
        drafts.append(EventDraft("assign", "alias", alias, version, f"{new}@{alias} → v{version}", why))
    return drafts


def _event_refs(
    publisher: Publisher,
    target: Target,
    new: str,
    seq: int,
    draft: EventDraft,
    commit: str,
    ident: str,
    millis: int,
) -> list[tuple[str, str]]:
    """An event of NEW (as `Publisher.make_event` makes one) tagging the commit of its versions."""
    tag = event_tag(new, draft.target, seq)
    payload = {
        "action": draft.action,
        "kind": draft.kind,
        "target": draft.target,
        "version": draft.version,
        "archived": [],
        "reason": draft.reason,
        "request": None,
        "millis": millis,
        **(draft.extra or {}),
    }
    tag_object = publisher.tag_object(
        target, tag, commit, event_message(draft.subject, payload), draft.target, ident=ident
    )
    return [(f"refs/tags/{tag}", tag_object), (claim_ref(new, seq), tag_object)]
