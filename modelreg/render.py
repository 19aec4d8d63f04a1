"""Rich tables and progress bars for a terminal. Never imported by the core."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelreg.models import Event, ModelSummary, ModelVersion, SearchResult, VersionDiff
from modelreg.plain import SEARCH_COLUMNS, fmt, history_columns, history_row, search_row, size, version_fields
from modelreg.results import GcReport, RequestStatus, VerifyReport

# --- terminal views ------------------------------------------------------------------------


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row whose text is shown literally: user text such as `[bold]` is not Rich markup."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def models_table(console: Console, models: list[ModelSummary], stages: tuple[str, ...]) -> None:
    if not models:
        console.print("No models registered yet. Register one with `modelreg register NAME PATH`.")
        return
    shown = [s for s in stages if any(s in m.stages for m in models)]
    table = Table(title="models", title_justify="left")
    table.add_column("model", style="bold")
    table.add_column("latest", justify="right")
    for stage in shown:
        table.add_column(stage, justify="right")
    table.add_column("aliases")
    for m in models:
        aliases = ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items()))
        _row(table, m.name, f"v{m.latest}", *(f"v{m.stages[s]}" if s in m.stages else "" for s in shown), aliases)
    console.print(table)


def version_view(console: Console, mv: ModelVersion) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in version_fields(mv):
        _row(table, label, value)
    console.print(table)


def search_table(console: Console, found: SearchResult, title: str) -> None:
    if not found.versions:
        console.print(f"No version matches {title}.")
        return
    count = len(found.versions)
    table = Table(title=f"{count} version{'s' if count != 1 else ''} matching {title}", title_justify="left")
    for column in SEARCH_COLUMNS:
        table.add_column(
            column,
            justify="right" if column == "version" else "left",
            no_wrap=column in ("model", "version", "created"),
            overflow="fold",
        )
    for mv in found.versions:
        _row(table, *search_row(mv))
    console.print(table)


HISTORY_ROWS = 200  # a terminal shows the newest ones; a pipe and --json get every row


def history_table(console: Console, name: str, events: list[Event]) -> None:
    columns = history_columns(events)
    reviewed = "approved by" in columns
    shown = events[-HISTORY_ROWS:]
    title = f"history of {name}"
    if len(shown) < len(events):
        title += f" (the newest {len(shown)} of {len(events)} rows: pipe it, or use --json, for all)"
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(
            column, justify="right" if column in ("seq", "version") else "left", no_wrap=column in ("version", "date")
        )
    for e in shown:
        row = history_row(e, reviewed)
        row[columns.index("date")] = e.date[:16].replace("T", " ")
        _row(table, *row)
    console.print(table)


def requests_table(console: Console, found: list[RequestStatus]) -> None:
    if not found:
        console.print("No promotion requests. Propose one with `modelreg promote NAME VERSION STAGE --request`.")
        return
    table = Table(title="promotion requests", title_justify="left")
    for column in ("state", "request", "change", "requested by", "merged by", "event"):
        table.add_column(column, no_wrap=column == "state", overflow="fold")
    for r in found:
        _row(
            table,
            r.state,
            r.request.id,
            r.request.label,
            r.request.requested_by.split(" <")[0],
            r.merge.merged_by.split(" <")[0] if r.merge and r.merge.via_merge else "",
            r.event.tag if r.event else (r.branch or ""),
        )
    console.print(table)


def diff_table(console: Console, d: VersionDiff) -> None:
    table = Table(title=f"{d.name}: v{d.a} vs v{d.b}", title_justify="left")
    for column in ("", "key", f"v{d.a}", f"v{d.b}", "Δ"):
        table.add_column(column)
    for section, changes in (("param", d.params), ("metric", d.metrics)):
        for c in changes:
            delta = "" if c.delta is None else f"{c.delta:+.6g}"
            key = Text(c.key, style="" if c.a == c.b else "yellow")
            _row(table, section, key, fmt(c.a), fmt(c.b), delta)
    _row(
        table,
        "artifact",
        "digest",
        d.digest_a[:19] + "…",
        d.digest_b[:19] + "…",
        "same" if d.digest_a == d.digest_b else "changed",
    )
    console.print(table)


def verify_view(console: Console, r: VerifyReport) -> None:
    checked = f"{r.models} models, {r.versions} versions, {r.events} events"
    if r.blobs:
        checked += f", {r.blobs} blobs re-hashed"
    if r.ok:
        console.print(Text(f"OK: {checked}"))
        return
    table = Table(title=f"{len(r.findings)} problems in {checked}", title_justify="left")
    for column in ("kind", "subject", "problem"):
        table.add_column(column, overflow="fold")
    for f in r.findings:
        _row(table, f.kind, f.subject, f.message)
    console.print(table)


def gc_view(console: Console, r: GcReport) -> None:
    verb = "Deleted" if r.deleted else "Would delete"
    lines = [f"{verb} {len(r.unreferenced)} unreferenced blobs ({size(r.reclaimable_bytes)}) from {r.store}"]
    lines += [f"  {b.digest}  {size(b.size)}" for b in r.unreferenced]
    if r.leftovers:
        lines.append(f"{verb} {len(r.leftovers)} leftovers of interrupted uploads")
    if r.young:
        lines.append(f"Kept {r.young} unreferenced blobs younger than the grace period")
    if not r.deleted and (r.unreferenced or r.leftovers):
        lines.append("Run again with --yes to delete them.")
    console.print(Text("\n".join(lines)))


class BarProgress:
    """A Rich progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Any = None
        self._task: Any = None

    def start(self, label: str, total: int) -> None:
        if not self.console.is_terminal:
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        if self._progress is None:
            self._progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, amount: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


class CountProgress(BarProgress):
    """A bar per task that counts items (an import's versions of one model), not bytes."""

    def start(self, label: str, total: int) -> None:
        if not self.console.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress

        if self._progress is None:
            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), console=self.console
            )
            self._progress.start()
        self._task = self._progress.add_task(label, total=total)
