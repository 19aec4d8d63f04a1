"""Views of what writes, checks, reviews, imports and `sync` return: JSON-ready dicts (their keys are part of
the CLI's interface: keep them stable) and the table of promotion requests.

Apart from the read views (jsonview, plain), so that a read loads none of these result types.
"""

from __future__ import annotations

from typing import Any

from modelreg.display.jsonview import event_json
from modelreg.display.plain import Column, Table
from modelreg.models import Request

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: the results module costs `--help` and every command ~1.6 ms (measured)
    from modelreg.results import (
        ApplyResult,
        CreatedRequest,
        FetchReport,
        GcReport,
        ImportReport,
        InitResult,
        LintReport,
        Record,
        RenameResult,
        ReportResult,
        RequestStatus,
        UpgradeResult,
        VerifyReport,
    )


def fetch_json(r: FetchReport) -> dict[str, Any]:
    return {"remote": r.remote, "fetched": r.fetched, "problems": list(r.problems), "warnings": list(r.warnings)}


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


def requests_table(found: list[RequestStatus]) -> Table:
    columns = (
        Column("state", key=True),
        Column("request", key=True),
        Column("change", key=True),
        Column("requested by"),
        Column("merged by"),
        Column("event", key=True),
    )
    rows = [
        [
            r.state,
            r.request.id,
            r.request.label,
            r.request.requested_by.split(" <")[0],
            r.merge.merged_by.split(" <")[0] if r.merge and r.merge.via_merge else "",
            r.event.tag if r.event else (r.branch or ""),
        ]
        for r in found
    ]
    empty = "No promotion requests. Propose one with `modelreg promote NAME@VERSION STAGE --request`."
    return Table("promotion requests", columns, rows, empty)


def rename_json(r: RenameResult) -> dict[str, Any]:
    """`rename --json`: both names, the versions registered under the new one, the `create` (if any) and `delete`."""
    events = [event_json(r.created)] if r.created is not None else []
    return {"old": r.old, "new": r.new, "versions": list(r.versions), "events": [*events, event_json(r.deleted)]}
