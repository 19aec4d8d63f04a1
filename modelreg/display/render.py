"""Rich tables and progress bars for a terminal. Never imported by the core."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.progress import ProgressColumn, Task
from rich.table import Table
from rich.text import Text

from modelreg.core.sizes import size
from modelreg.display import plain
from modelreg.display.plain import version_fields
from modelreg.models import ModelVersion, VersionDiff
from modelreg.results import GcReport, VerifyReport

# --- terminal views ------------------------------------------------------------------------


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row whose text is shown literally: user text such as `[bold]` is not Rich markup."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def table(console: Console, t: plain.Table) -> None:
    """Draw `t` to fit the terminal without ever cutting an identifier.

    Key columns (names, versions, digests, stages, aliases) get their full width; the other
    columns wrap, and the rightmost of them are dropped while the keys would not fit beside them.
    When even the keys do not fit side by side, each row is shown as a block of `column: value`
    lines instead, so every identifier is still whole.
    """
    if not t.rows:
        if t.empty:
            console.print(Text(t.empty), soft_wrap=False)
        return
    widths = [max(cell_len(c.header), *(cell_len(row[i]) for row in t.rows)) for i, c in enumerate(t.columns)]
    shown = list(range(len(t.columns)))

    def needed(columns: list[int]) -> int:  # every column has a border and a space each side
        return 1 + sum(3 + (widths[i] if t.columns[i].key else min(widths[i], _WRAPPED_MIN)) for i in columns)

    for i in reversed(range(len(t.columns))):
        if needed(shown) <= console.width:
            break
        if not t.columns[i].key:
            shown.remove(i)
    if needed(shown) > console.width:
        _blocks(console, t)
        return
    table = Table(title=t.title, title_justify="left")
    for i in shown:
        column = t.columns[i]
        table.add_column(
            column.header,
            justify="right" if column.right else "left",
            width=widths[i] if column.key else None,
            no_wrap=column.key,
            overflow="fold",
        )
    for row in t.rows:
        _row(table, *(row[i] for i in shown))
    console.print(table, soft_wrap=False)
    left_out = [t.columns[i].header for i in range(len(t.columns)) if i not in shown]
    if left_out:
        note = f"({', '.join(left_out)} left out for want of width: widen the terminal, pipe it, or use --json)"
        console.print(Text(note, style="dim"), soft_wrap=False)


def _blocks(console: Console, t: plain.Table) -> None:
    """A table too wide for the terminal as one block per row: the first cell, then `column: value` lines."""
    label_width = max(cell_len(c.header) for c in t.columns[1:]) if len(t.columns) > 1 else 0
    lines = Text(t.title + "\n", style="bold")
    for row in t.rows:
        lines.append("\n" + row[0] + "\n", style="bold")
        for column, cell in zip(t.columns[1:], row[1:], strict=True):
            if cell:
                lines.append(f"  {column.header.ljust(label_width)}  {cell}\n")
    console.print(lines, soft_wrap=False, overflow="fold")


_WRAPPED_MIN = 10  # the narrowest a column of free text (a reason, a name) is drawn before it is dropped


def version_view(console: Console, mv: ModelVersion) -> None:
    # One space between label and value (not two): `artifact` and a 71-character digest fit in 80 columns.
    view = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1, 0, 0))
    view.add_column(style="bold", no_wrap=True)
    view.add_column(overflow="fold")
    for label, value in version_fields(mv):
        _row(view, label, value)
    console.print(view)


def diff_table(console: Console, d: VersionDiff) -> None:
    """The params and metrics as a table; the digests below it, each on its own line (they are long)."""
    table(console, plain.diff_table(d, digests=False))
    digests = f"artifact v{d.a}: {d.digest_a}\nartifact v{d.b}: {d.digest_b}\n({plain.digest_change(d)})"
    console.print(Text(digests), soft_wrap=False, overflow="fold")  # folded at the edge, never cut


def verify_view(console: Console, r: VerifyReport) -> None:
    checked = f"{r.models} models, {r.versions} versions, {r.events} events"
    if r.blobs:
        checked += f", {r.blobs} blobs re-hashed"
    if r.ok:
        console.print(Text(f"OK: {checked}"))
        return
    table(console, plain.findings_table(r.findings, f"{len(r.findings)} problems in {checked}"))


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
    """A Rich progress bar on stderr, shown only when stderr is a terminal: one line that fits its width."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Any = None
        self._task: Any = None

    def start(self, label: str, total: int) -> None:
        if not self.console.is_terminal:
            return
        from rich.progress import Progress  # only a bar on a terminal pays for Rich's progress module

        if self._progress is None:
            self._progress = Progress(_ProgressLine(self.console), console=self.console, transient=True)
            self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, amount: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _mib(n: float) -> str:
    return f"{n / 1048576:.1f}"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -:--"
    minutes, secs = divmod(int(seconds), 60)
    return f"ETA {minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"ETA {minutes}:{secs:02d}"


def progress_line(label: str, done: float, total: float, speed: float | None, eta: float | None, width: int) -> Text:
    """`pulling m v2 ━━━━━━━━━━━━ 12.0/48.0 MiB 30.1 MiB/s ETA 0:01`, in at most `width - 1` cells.

    Narrow terminals lose the label's detail first (`pulling`), then the speed, then the label;
    the bar keeps at least 8 cells. One unit everywhere: MiB.
    """
    room = width - 1
    amounts = f"{_mib(done)}/{_mib(total)} MiB"
    speed_text = f"{_mib(speed or 0)} MiB/s"
    for words in (
        (label, amounts, speed_text, _eta(eta)),
        (label.split(" ")[0], amounts, speed_text, _eta(eta)),
        (label.split(" ")[0], amounts, _eta(eta)),
        (amounts, _eta(eta)),
        (amounts,),
    ):
        bar = room - sum(cell_len(w) + 1 for w in words)
        if bar >= 8 or len(words) == 1:
            break
    bar = max(bar, 1)
    has_label = words[0] not in (amounts,)
    filled = int(bar * min(done / total, 1.0)) if total else 0
    line = Text(words[0] + " " if has_label else "")
    line.append("━" * filled, style="bar.complete")
    line.append("━" * (bar - filled), style="bar.back")
    line.append("".join(" " + w for w in words[1 if has_label else 0 :]))
    line.truncate(room)
    return line


class _ProgressLine(ProgressColumn):
    """The whole progress line as one Rich progress column, so it is laid out to the terminal's width."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def render(self, task: Task) -> Text:
        return progress_line(
            task.description, task.completed, task.total or 0, task.speed, task.time_remaining, self.console.width
        )


class CountProgress(BarProgress):
    """A bar per task that counts items (an import's versions of one model), not bytes."""

    def start(self, label: str, total: int) -> None:
        if not self.console.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress  # as above

        if self._progress is None:
            self._progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                console=self.console,
            )
            self._progress.start()
        self._task = self._progress.add_task(label, total=total)
