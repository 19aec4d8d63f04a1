"""API results as JSON-ready dicts. The keys are part of the CLI's interface: keep them stable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelreg import manifest as manifestmod

if TYPE_CHECKING:
    from modelreg.api import InitResult, RefCheck, VersionDiff
    from modelreg.checks import GcReport, VerifyReport
    from modelreg.models import Event, ModelSummary, ModelVersion


def version_json(mv: ModelVersion) -> dict[str, Any]:
    return {**manifestmod.to_dict(mv.manifest), "stage": mv.stage, "aliases": list(mv.aliases), "commit": mv.commit}


def resolve_json(mv: ModelVersion) -> dict[str, Any]:
    return {
        "name": mv.name,
        "version": mv.version,
        "ref": f"{mv.name}@v{mv.version}",
        "digest": mv.digest,
        "size": mv.manifest.artifact.size,
        "store": mv.manifest.artifact.store,
        "stage": mv.stage,
        "aliases": list(mv.aliases),
        "commit": mv.commit,
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
        "tag": e.tag,
    }


def summary_json(s: ModelSummary) -> dict[str, Any]:
    return {"name": s.name, "latest": s.latest, "versions": s.versions, "stages": s.stages, "aliases": s.aliases}


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
    }


def verify_json(r: VerifyReport) -> dict[str, Any]:
    return {
        "ok": r.ok,
        "models": r.models,
        "versions": r.versions,
        "events": r.events,
        "blobs": r.blobs,
        "findings": [{"kind": f.kind, "subject": f.subject, "message": f.message} for f in r.findings],
    }


def gc_json(r: GcReport) -> dict[str, Any]:
    return {
        "store": r.store,
        "referenced": r.referenced,
        "deleted": r.deleted,
        "unreferenced": [{"digest": b.digest, "size": b.size} for b in r.unreferenced],
        "reclaimable_bytes": r.reclaimable_bytes,
        "young": r.young,
        "leftovers": list(r.leftovers),
    }


def init_json(r: InitResult) -> dict[str, Any]:
    return {"root": str(r.root), "config": str(r.config_path), "store": r.store, "commit": r.commit}
