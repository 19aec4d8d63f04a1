"""API results as JSON-ready dicts. The keys are part of the CLI's interface: keep them stable."""

from __future__ import annotations

from typing import Any

from modelreg.core.refs import ModelRef
from modelreg.formats import manifest as manifestmod
from modelreg.models import Event, Manifest, ModelSummary, ModelVersion, RefCheck, SearchResult, VersionDiff
from modelreg.results import (
    ApplyResult,
    CreatedRequest,
    FetchReport,
    GcReport,
    ImportReport,
    InitResult,
    LintReport,
    Record,
    ReportResult,
    Request,
    RequestStatus,
    UpgradeResult,
    VerifyReport,
)


def manifest_json(m: Manifest) -> dict[str, Any]:
    return manifestmod.to_dict(m)


def fetch_json(r: FetchReport) -> dict[str, Any]:
    return {"remote": r.remote, "fetched": r.fetched, "problems": list(r.problems), "warnings": list(r.warnings)}


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
            if e.action in ("describe", "update")
            else {}
        ),
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


def verify_json(r: VerifyReport) -> dict[str, Any]:
    return {
        "ok": r.ok,
        "models": r.models,
        "versions": r.versions,
        "events": r.events,
        "blobs": r.blobs,
        "findings": [{"kind": f.kind, "subject": f.subject, "message": f.message} for f in r.findings],
        "warnings": list(r.warnings),
    }


def upgrade_json(r: UpgradeResult) -> dict[str, Any]:
    return {"claimed": list(r.claimed), "refused": list(r.refused)}


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


def request_json(r: Request) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "version": r.version,
        "kind": r.kind,
        "target": r.target,
        "holder": r.holder,
        "keep_existing": r.keep_existing,
        "reason": r.reason,
        "requested_by": r.requested_by,
        "requested_at": r.requested_at,
    }


def request_created_json(c: CreatedRequest, push_command: str | None) -> dict[str, Any]:
    return {
        "request": request_json(c.request),
        "branch": c.branch,
        "commit": c.commit,
        "pushed_to": c.pushed_to,
        "push_command": push_command,
        "title": c.title,
        "body": c.body,
    }


def request_status_json(s: RequestStatus) -> dict[str, Any]:
    return {
        "request": request_json(s.request),
        "state": s.state,
        "branch": s.branch,
        "merge_commit": s.merge.commit if s.merge else None,
        "merged_by": s.merge.merged_by if s.merge else None,
        "merged_at": s.merge.merged_at if s.merge else None,
        "event": s.event.tag if s.event else None,
    }


def apply_json(r: ApplyResult) -> dict[str, Any]:
    return {
        "request": r.request.id,
        "outcome": r.outcome,
        "event": event_json(r.event) if r.event else None,
        "error": r.error,
    }


def sync_record_json(r: Record, time: str) -> dict[str, Any]:
    """One JSON line of `modelreg sync --json`."""
    d = r.deployed
    return {
        "time": time,
        "event": r.kind,
        "message": r.message,
        "name": d.name if d else None,
        "version": d.version if d else None,
        "digest": d.digest if d else None,
        "tag": d.tag if d else None,
        "approved_by": d.approved_by if d else None,
        "path": str(d.path) if d else None,
        "exit_code": r.exit_code,
        "retry_in": r.retry_in,
    }


def import_json(r: ImportReport) -> dict[str, Any]:
    return {
        "source": r.source,
        "dry_run": r.dry_run,
        "registered": r.registered,
        "events": r.events,
        "already_imported": r.already,
        "not_mapped": r.skipped,
    }


def report_json(r: ReportResult) -> dict[str, Any]:
    return {
        "path": str(r.path),
        "index": str(r.path / r.pages[0]),
        "pages": list(r.pages),
        "models": r.models,
        "versions": r.versions,
        "events": r.events,
    }


def lint_json(r: LintReport) -> dict[str, Any]:
    return {"ok": r.ok, "manifests": r.manifests, "problems": list(r.problems), "warnings": list(r.warnings)}
