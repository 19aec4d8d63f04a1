"""Plain text views for pipes: full values, no padding, no box drawing; tab-separated tables with a header.

`grep`, `cut` and `awk` work on these, and nothing here imports Rich.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from modelreg.core.sizes import size
from modelreg.models import Event, Finding, ModelSummary, ModelVersion, SearchResult, VersionDiff


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


_DONE = {
    "retire": "retired",
    "unretire": "unretired",
    "describe": "described",
    "update": "updated",
    "create": "created",
    "delete": "deleted",
}


def describe_event(e: Event) -> str:
    """A short label: `registered`, `→ production`, `→ @champion`, `✕ @champion`, `↩ production`."""
    if e.action == "register":
        return f"registered (renamed from {e.renamed})" if e.renamed else "registered"
    if e.kind in ("model", "version"):
        word = _DONE[e.action]
        changed = [f"renamed {'from' if e.action == 'create' else 'to'} {e.renamed}"] if e.renamed else []
        changed += [f"{k}={fmt(v)}" for k, v in e.set_tags] + [f"-{k}" for k in e.removed_tags]
        changed += ["description"] if e.description or (e.description == "" and e.action != "create") else []
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


class Column(NamedTuple):
    """A table column. `key` columns hold identifiers (names, versions, digests, stages, aliases):
    a terminal never cuts them and drops the other columns first when it runs out of width."""

    header: str
    key: bool = False
    right: bool = False


class Table(NamedTuple):
    """What a command shows as a table: drawn by Rich on a terminal (render.table), tab-separated in a pipe."""

    title: str
    columns: tuple[Column, ...]
    rows: list[list[str]]
    empty: str = ""  # said (on stderr in a pipe) when there are no rows


def table_text(table: Table) -> str:
    """The pipe form: a header row, then one tab-separated row each; full values, no padding."""
    return tsv((c.header for c in table.columns), table.rows)


def timestamp(text: str) -> str:
    """Every date a person reads is ISO 8601 in UTC with its zone: `2026-11-28T16:45:48Z`."""
    if not text or text.endswith("Z"):
        return text
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when.tzinfo else text


def version_fields(mv: ModelVersion) -> list[tuple[str, str]]:
    """(label, value) pairs of `show`, in the order a person reads them."""
    m = mv.manifest
    count = len(m.artifact.files)
    pairs = [
        ("model", f"{m.name} v{m.version}"),
        ("stage", mv.stage or "—"),
        ("aliases", ", ".join(mv.aliases) or "—"),
        ("created", f"{timestamp(m.created_at)} by {m.created_by}"),
    ]
    if m.description:
        pairs.append(("description", m.description))
    origin = m.extra.get("origin")
    if isinstance(origin, dict) and isinstance(origin.get("missing"), str):
        pairs.append(("bytes", f"none: {origin['missing']}"))  # reference-only, or imported without its bytes
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


def models_table(
    models: list[ModelSummary], stages: tuple[str, ...], *, held_only: bool = False, empty: str | None = None
) -> Table:
    """`list`: one row per model. `held_only` leaves out the stages no model holds (a terminal's view).

    A `status` column appears when some model is retired (its stages and aliases no longer resolve)."""
    shown = [s for s in stages if not held_only or any(s in m.stages for m in models)]
    any_retired = any(m.retired for m in models)
    rows = [
        [
            m.name,
            f"v{m.latest}" if m.latest is not None else "— (no version yet)",
            *(f"v{m.stages[s]}" if s in m.stages else "" for s in shown),
            ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items())),
            *(["retired" if m.retired else ""] if any_retired else []),
        ]
        for m in models
    ]
    columns = (
        Column("model", key=True),
        Column("latest", key=True, right=True),
        *(Column(s, key=True, right=True) for s in shown),
        Column("aliases", key=True),
        *((Column("status", key=True),) if any_retired else ()),
    )
    hint = empty or "No models registered yet. Register one with `modelreg register NAME PATH`."
    return Table("models", columns, rows, hint)


def models_text(models: list[ModelSummary], stages: tuple[str, ...]) -> str:
    return table_text(models_table(models, stages))


def history_table(name: str, events: list[Event], limit: int | None = None) -> Table:
    """`history`: one row per event, oldest first; with `limit`, only the newest rows (a terminal's view)."""
    reviewed = any(e.request for e in events)
    columns = (
        Column("seq", key=True, right=True),
        Column("version", key=True, right=True),
        Column("event", key=True),
        Column("by"),
        *((Column("approved by"),) if reviewed else ()),
        Column("date", key=True),  # a timestamp is one token: never broken across lines
        Column("reason"),
    )
    shown = events[-limit:] if limit else events
    title = f"history of {name}"
    if len(shown) < len(events):
        title += f" (the newest {len(shown)} of {len(events)} rows: pipe it, or use --json, for all)"
    return Table(title, columns, [history_row(e, reviewed) for e in shown])


def history_row(e: Event, reviewed: bool) -> list[str]:
    approval = [(e.approved_by or "").split(" <")[0]] if reviewed else []
    return [
        "" if e.seq is None else str(e.seq),
        f"v{e.version}",
        describe_event(e),
        e.actor.split(" <")[0],
        *approval,
        timestamp(e.date),
        e.reason or "",
    ]


def history_text(events: list[Event]) -> str:
    return table_text(history_table("", events))


def diff_table(d: VersionDiff, *, digests: bool = True) -> Table:
    """`diff`: params and metrics side by side (Δ for numbers); with `digests`, the artifact row too."""
    columns = (
        Column("section"),
        Column("key", key=True),
        Column(f"v{d.a}", key=True, right=True),
        Column(f"v{d.b}", key=True, right=True),
        Column("Δ", right=True),
    )
    rows = [
        [section, c.key, fmt(c.a), fmt(c.b), "" if c.delta is None else f"{c.delta:+.6g}"]
        for section, changes in (("param", d.params), ("metric", d.metrics))
        for c in changes
    ]
    if digests:
        rows.append(["artifact", "digest", d.digest_a, d.digest_b, digest_change(d)])
    return Table(f"{d.name}: v{d.a} vs v{d.b}", columns, rows)


def digest_change(d: VersionDiff) -> str:
    return "same" if d.digest_a == d.digest_b else "changed"


def findings_table(findings: Iterable[Finding], title: str) -> Table:
    columns = (Column("kind", key=True), Column("subject", key=True), Column("problem"))
    return Table(title, columns, [[f.kind, f.subject, f.message] for f in findings])


def search_table(found: SearchResult, title: str) -> Table:
    """`search`: one row per version found, in the order asked for."""
    columns = (
        Column("model", key=True),
        Column("version", key=True, right=True),
        Column("stage", key=True),
        Column("aliases", key=True),
        Column("created", key=True),
        Column("metrics"),
        Column("tags"),
    )
    rows = [
        [
            mv.manifest.name,
            f"v{mv.manifest.version}",
            mv.stage or "",
            ", ".join(mv.aliases),
            timestamp(mv.manifest.created_at),
            ", ".join(f"{k}={fmt(v)}" for k, v in mv.manifest.metrics.items()),
            ", ".join(f"{k}={fmt(v)}" for k, v in mv.manifest.tags.items()),
        ]
        for mv in found.versions
    ]
    count = len(rows)
    return Table(
        f"{count} version{'s' if count != 1 else ''} matching {title}", columns, rows, f"No version matches {title}."
    )
