"""Promotion requests (DESIGN §6): the file format, ids, branch names and the PR body. Pure, no I/O.

A request is a proposed stage or alias change, committed as `.modelreg/requests/<id>.yaml` on a
branch of its own. Merging that branch is the approval; `modelreg apply` then writes the event.
"""

from __future__ import annotations

import re
from typing import Any

from modelreg.core.refs import check_name
from modelreg.errors import ConfigError, InvalidInputError
from modelreg.formats import yamlio
from modelreg.formats.schema import Fields
from modelreg.models import REQUESTS_DIR, Manifest, Request

SCHEMA = "modelreg/request/v1"
BRANCH_PREFIX = "modelreg/request/"
_ID_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
MAX_ID_LENGTH = 240  # a file name, with `.yaml`, stays under the usual 255-byte limit


def check_request_id(request_id: str) -> str:
    if not request_id or len(request_id) > MAX_ID_LENGTH or not _ID_RE.fullmatch(request_id):
        raise InvalidInputError(
            f"invalid request id {request_id[:60]!r}: lowercase letters and digits separated by '.', '_' or '-'"
        )
    return request_id


def new_request_id(name: str, target: str, version: int, entropy: str) -> str:
    """`fraud-detector-production-v7-3f9a1c`: readable in a branch list, unique by its suffix."""
    suffix = "".join(c for c in entropy.lower() if c in "0123456789abcdef")[:6]
    if len(suffix) < 6:
        raise ValueError("entropy must hold at least six hex digits")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100].rstrip("-") or "model"
    return check_request_id(f"{slug}-{target}-v{version}-{suffix}")


def request_path(request_id: str) -> str:
    return f"{REQUESTS_DIR}/{request_id}.yaml"


def request_id_of(path: str) -> str | None:
    """The id of a request file's path, or None if the path is not one."""
    directory, _, filename = path.rpartition("/")
    if directory != REQUESTS_DIR or not filename.endswith(".yaml"):
        return None
    stem = filename.removesuffix(".yaml")
    return stem if _ID_RE.fullmatch(stem) and len(stem) <= MAX_ID_LENGTH else None


def default_branch(request_id: str) -> str:
    return f"{BRANCH_PREFIX}{request_id}"


def to_yaml(request: Request) -> str:
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "id": request.id,
        "name": request.name,
        "version": request.version,
        "kind": request.kind,
        "target": request.target,
        "holder": request.holder,
        "keep_existing": request.keep_existing,
        "reason": request.reason,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
    }
    return yamlio.dump(data)


def from_yaml(text: str, source: str) -> Request:
    doc = Fields(yamlio.load(text, source), source)
    if doc.required("schema", str) != SCHEMA:
        raise doc.fail("schema", f"must be {SCHEMA!r} (this modelreg reads request format v1)")
    kind = doc.required("kind", str)
    if kind not in ("stage", "alias"):
        raise doc.fail("kind", f"must be 'stage' or 'alias', not {kind!r}")
    version = doc.required("version", int)
    holder = doc.maybe("holder", int)
    if version < 1 or (holder is not None and holder < 1):
        raise doc.fail("version" if version < 1 else "holder", "must be a positive version number")
    try:
        request_id = check_request_id(doc.required("id", str))
        name = check_name(doc.required("name", str))
        target = check_name(doc.required("target", str), "stage" if kind == "stage" else "alias")
    except InvalidInputError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return Request(
        id=request_id,
        name=name,
        version=version,
        kind="stage" if kind == "stage" else "alias",
        target=target,
        holder=holder,
        keep_existing=doc.optional("keep_existing", bool, False),
        reason=doc.maybe("reason", str),
        requested_by=doc.optional("requested_by", str, ""),
        requested_at=doc.optional("requested_at", str, ""),
    )


# --- the pull request's body --------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A value made safe for a Markdown table cell: no row breaks, no HTML, no column breaks."""
    if value is None:
        return "—"
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    text = " ".join(text.split())
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'")):
        text = text.replace(raw, escaped)
    return text or "—"


def _code(value: Any) -> str:
    return "—" if value is None else f"`{_cell(value)}`"


def _delta(a: Any, b: Any) -> str:
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    if not numeric:
        return "" if a == b else "changed"
    delta = b - a
    relative = f" ({delta / abs(a):+.1%})" if a else ""
    return f"{delta:+.6g}{relative}"


def pr_title(request: Request) -> str:
    if request.kind == "alias":
        return f"modelreg: point {request.name}@{request.target} at v{request.version}"
    return f"modelreg: promote {request.name} v{request.version} to {request.target}"


def pr_body(request: Request, candidate: Manifest, holder: Manifest | None) -> str:
    """Markdown for the pull request: the candidate against the current holder of the target."""
    what = "alias" if request.kind == "alias" else "stage"
    lines = [
        f"## {_cell(pr_title(request).removeprefix('modelreg: ').capitalize())}",
        "",
        f"Request `{request.id}` by {_cell(request.requested_by)} at {_cell(request.requested_at)}.",
    ]
    if request.reason:
        lines += ["", *(f"> {_cell(line)}" for line in request.reason.splitlines() if line.strip())]
    old = f"v{holder.version} (current {request.target})" if holder else f"no current {what} holder"
    new = f"v{candidate.version} (candidate)"
    lines += [
        "",
        f"|  | {old} | {new} |",
        "|---|---|---|",
        f"| digest | {_code(holder.artifact.digest if holder else None)} | {_code(candidate.artifact.digest)} |",
        f"| size (bytes) | {_cell(holder.artifact.size if holder else None)} | {_cell(candidate.artifact.size)} |",
        f"| registered | {_cell(holder.created_at if holder else None)} | {_cell(candidate.created_at)} |",
        f"| by | {_cell(holder.created_by if holder else None)} | {_cell(candidate.created_by)} |",
        f"| description | {_cell(holder.description if holder else None)} | {_cell(candidate.description)} |",
    ]
    base_metrics = holder.metrics if holder else {}
    if candidate.metrics or base_metrics:
        lines += ["", "### Metrics", "", "| metric | current | candidate | Δ |", "|---|---|---|---|"]
        for key in sorted(candidate.metrics.keys() | base_metrics.keys()):
            a, b = base_metrics.get(key), candidate.metrics.get(key)
            lines.append(f"| {_cell(key)} | {_cell(a)} | {_cell(b)} | {_cell(_delta(a, b)) if holder else ''} |")
    base_params = holder.params if holder else {}
    keys = candidate.params.keys() | base_params.keys()
    changed = sorted(k for k in keys if candidate.params.get(k) != base_params.get(k))
    if changed:
        title = "Params that changed" if holder else "Params"
        lines += ["", f"### {title}", "", "| param | current | candidate |", "|---|---|---|"]
        lines += [f"| {_cell(k)} | {_cell(base_params.get(k))} | {_cell(candidate.params.get(k))} |" for k in changed]
    lines += ["", "### Lineage", "", "|  | current | candidate |", "|---|---|---|"]
    lineage = (("code commit", "code_commit"), ("dataset", "dataset"), ("run id", "run_id"), ("parent", "parent"))
    for label, attr in lineage:
        a = getattr(holder.lineage, attr) if holder else None
        b = getattr(candidate.lineage, attr)
        lines.append(f"| {label} | {_code(a)} | {_code(b)} |")
    if candidate.lineage.code_dirty:
        lines += ["", "**Note:** the candidate was registered from a work tree with uncommitted changes."]
    lines += [
        "",
        "---",
        f"Merging this pull request approves it. CI on the main branch then runs `modelreg apply --push`, "
        f"which records the {what} change as an event tag naming the request, the merge commit and the "
        f"merger as approver. Merge with a merge commit: squash and rebase merges leave no record of who merged.",
    ]
    return "\n".join(lines) + "\n"
