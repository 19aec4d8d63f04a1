"""API results as JSON-ready dicts. The keys are part of the CLI's interface: keep them stable."""

from __future__ import annotations

from typing import Any

from modelreg.core.refs import ModelRef
from modelreg.formats import manifest as manifestmod
from modelreg.models import Event, Manifest, ModelSummary, ModelVersion, RefCheck, SearchResult, VersionDiff


def manifest_json(m: Manifest) -> dict[str, Any]:
    return manifestmod.to_dict(m)


def version_json(mv: ModelVersion, policy: str | None = None) -> dict[str, Any]:
    return {
        **manifestmod.to_dict(mv.manifest),
        "stage": mv.stage,
        "aliases": list(mv.aliases),
        "commit": mv.commit,
        "warnings": list(mv.warnings),
        "policy": policy,
    }


def search_json(found: SearchResult, policy: str | None = None) -> dict[str, Any]:
    """The matching versions (each as `show --json` gives it, without per-version warnings), in order."""
    versions = [
        {**manifestmod.to_dict(mv.manifest), "stage": mv.stage, "aliases": list(mv.aliases), "commit": mv.commit}
        for mv in found.versions
    ]
    return {"versions": versions, "warnings": list(found.warnings), "policy": policy}


def resolve_json(mv: ModelVersion, policy: str | None = None) -> dict[str, Any]:
    return {
        "name": mv.name,
        "version": mv.version,
        "ref": str(ModelRef(mv.name, version=mv.version)),
        "digest": mv.digest,
        "size": mv.manifest.artifact.size,
        "store": mv.store or mv.manifest.artifact.store,
        "stage": mv.stage,
        "aliases": list(mv.aliases),
        "commit": mv.commit,
        "warnings": list(mv.warnings),
        "policy": policy,
    }


def event_json(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "action": e.action,
        "version": e.version,
        "kind": e.kind,
        "target": e.target,
        "archived": list(e.archived),
        "actor": e.actor,
        "date": e.date,
        "reason": e.reason,
        "request": e.request,
        "approved_by": e.approved_by,
        "merge_commit": e.merge_commit,
        "tag": e.tag,
        # describe and update: what changed (other events have no such keys)
        **(
            {"description": e.description, "tags": dict(e.set_tags), "removed_tags": list(e.removed_tags)}
            if e.action in ("describe", "update", "create")
            else {}
        ),
        # a rename (ops.rename): the new name's `create` names the old one, the old name's `delete` the new one
        **({"renamed_from" if e.action == "create" else "renamed_to": e.renamed} if e.renamed else {}),
    }


def summary_json(s: ModelSummary) -> dict[str, Any]:
    return {
        "name": s.name,
        "latest": s.latest,
        "versions": s.versions,
        "stages": s.stages,
        "aliases": s.aliases,
        "warnings": list(s.warnings),
        "retired": s.retired,
        "description": s.description,
        "tags": dict(s.tags),
    }


def diff_json(d: VersionDiff) -> dict[str, Any]:
    def rows(changes: Any) -> dict[str, Any]:
        return {c.key: {"a": c.a, "b": c.b, "delta": c.delta} for c in changes}

    return {
        "name": d.name,
        "a": d.a,
        "b": d.b,
        "params": rows(d.params),
        "metrics": rows(d.metrics),
        "digest": {"a": d.digest_a, "b": d.digest_b},
    }


def check_json(c: RefCheck) -> dict[str, Any]:
    return {
        "tag": c.tag,
        "model": c.model,
        "version": c.version,
        "action": c.action,
        "kind": c.kind,
        "target": c.target,
        "stage": c.stage,
        "alias": c.alias,
        "seq": c.seq,
        "digest": c.digest,
        "store": c.store,
        "actor": c.actor,
        "date": c.date,
        "current": c.current,
        "request": c.request,
        "approved_by": c.approved_by,
        "ref": str(ModelRef(c.model, version=c.version)),
        "policy": c.policy,
        "retired": c.retired,
    }
