"""Plain text views for pipes: full values, no padding, no box drawing; tab-separated tables with a header.

`grep`, `cut` and `awk` work on these, and nothing here imports Rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from modelreg.models import Event, ModelSummary, ModelVersion, SearchResult


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def describe_event(e: Event) -> str:
    """A short label: `registered`, `→ production`, `→ @champion`, `✕ @champion`, `↩ production`."""
    if e.action == "register":
        return "registered"
    if e.kind in ("model", "version"):
        word = {"retire": "retired", "unretire": "unretired", "describe": "described", "update": "updated"}[e.action]
        changed = [f"{k}={fmt(v)}" for k, v in e.set_tags] + [f"-{k}" for k in e.removed_tags]
        changed += ["description"] if e.description is not None else []
        return word + (f" ({', '.join(changed)})" if changed else "")
    target = f"@{e.target}" if e.kind == "alias" else str(e.target)
    mark = {"assign": "→", "unassign": "✕", "rollback": "↩"}[e.action]
    archived = f" (v{', v'.join(map(str, e.archived))} archived)" if e.archived else ""
    return f"{mark} {target}{archived}"


def _cell(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")


def tsv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    lines = ["\t".join(header)] + ["\t".join(_cell(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


def version_fields(mv: ModelVersion) -> list[tuple[str, str]]:
    """(label, value) pairs of `show`, in the order a person reads them."""
    m = mv.manifest
    count = len(m.artifact.files)
    pairs = [
        ("model", f"{m.name} v{m.version}"),
        ("stage", mv.stage or "—"),
        ("aliases", ", ".join(mv.aliases) or "—"),
        ("created", f"{m.created_at} by {m.created_by}"),
    ]
    if m.description:
        pairs.append(("description", m.description))
    pairs += [
        ("artifact", m.artifact.digest),
        ("size", f"{size(m.artifact.size)} in {count} file{'s' if count != 1 else ''}"),
        ("store", m.artifact.store),
    ]
    for label, values in (("params", m.params), ("metrics", m.metrics), ("tags", m.tags)):
        if values:
            pairs.append((label, ", ".join(f"{k}={fmt(v)}" for k, v in values.items())))
    lineage = m.lineage
    if lineage.code_commit:
        pairs.append(("code", lineage.code_commit + (" (dirty)" if lineage.code_dirty else "")))
    for label, value in (
        ("dataset", lineage.dataset),
        ("run id", lineage.run_id),
        ("parent", lineage.parent),
        ("hardware", m.training.hardware),
        ("duration", m.training.duration_s),
    ):
        if value is not None:
            pairs.append((label, f"{fmt(value)} s" if label == "duration" else str(value)))
    return pairs


def version_text(mv: ModelVersion) -> str:
    return "".join(f"{label}\t{_cell(value)}\n" for label, value in version_fields(mv))


def models_text(models: list[ModelSummary], stages: tuple[str, ...]) -> str:
    rows = (
        [
            m.name,
            f"v{m.latest}",
            *(f"v{m.stages[s]}" if s in m.stages else "" for s in stages),
            ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items())),
        ]
        for m in models
    )
    return tsv(["model", "latest", *stages, "aliases"], rows)


def history_columns(events: list[Event]) -> tuple[str, ...]:
    reviewed = any(e.request for e in events)
    return ("seq", "version", "event", "by", *(("approved by",) if reviewed else ()), "date", "reason")


def history_row(e: Event, reviewed: bool) -> list[str]:
    approval = [(e.approved_by or "").split(" <")[0]] if reviewed else []
    return [
        "" if e.seq is None else str(e.seq),
        f"v{e.version}",
        describe_event(e),
        e.actor.split(" <")[0],
        *approval,
        e.date,
        e.reason or "",
    ]


def history_text(events: list[Event]) -> str:
    columns = history_columns(events)
    reviewed = "approved by" in columns
    return tsv(columns, (history_row(e, reviewed) for e in events))


SEARCH_COLUMNS = ("model", "version", "stage", "aliases", "created", "metrics", "tags")


def search_row(mv: ModelVersion) -> list[str]:
    m = mv.manifest
    return [
        m.name,
        f"v{m.version}",
        mv.stage or "",
        ", ".join(mv.aliases),
        m.created_at,
        ", ".join(f"{k}={fmt(v)}" for k, v in m.metrics.items()),
        ", ".join(f"{k}={fmt(v)}" for k, v in m.tags.items()),
    ]


def search_text(found: SearchResult) -> str:
    return tsv(SEARCH_COLUMNS, (search_row(mv) for mv in found.versions))
