"""Where the CLI's words go: results on stdout, diagnostics on stderr; Rich only for a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from modelreg.display import jsonview, plain
from modelreg.display.plain import Table
from modelreg.models import Event

if TYPE_CHECKING:
    from rich.console import Console

    from modelreg.display.render import BarProgress


def line(text: str) -> None:
    sys.stdout.write(text + "\n")


def say(message: str) -> None:
    sys.stderr.write(message + "\n")


def warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        say(f"warning: {warning}")


def json_out(data: Any) -> None:
    import json  # ~1 ms that plain output never pays

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def json_rows_out(data: dict[str, Any], key: str) -> None:
    """`data` as `json_out` prints it, but each item of the list `data[key]` on one line of its own.

    For long lists (search's versions): one row per line greps well, and compact rows go through
    json's C encoder, where an indented dump of thousands of records takes seconds in pure Python.
    """
    import json  # see json_out
    import os

    marker = f"rows-{os.urandom(16).hex()}"  # no value can hold it by chance
    head = json.dumps({**data, key: marker}, indent=2, ensure_ascii=False)
    rows = ",\n".join(f"    {json.dumps(row, ensure_ascii=False)}" for row in data[key])
    sys.stdout.write(head.replace(f'"{marker}"', f"[\n{rows}\n  ]" if rows else "[]", 1) + "\n")


def terminal() -> bool:
    """Whether stdout is a terminal: Rich tables there; plain tab-separated text in a pipe."""
    return sys.stdout.isatty()


def table(t: Table) -> None:
    """Show a table where it goes: drawn to fit on a terminal, tab-separated with a header in a pipe.

    Every command that shows rows builds a `plain.Table` and calls this; `--json` is the caller's.
    """
    if terminal():
        from modelreg.display import render  # Rich: 100+ ms of start-up (measured), paid only on a terminal

        render.table(console(), t)
        return

    sys.stdout.write(plain.table_text(t))  # the header even when there are no rows: scripts can rely on it
    if not t.rows and t.empty:
        say(t.empty)


# Rich is imported only by commands that draw a table or a progress bar: start-up time matters
# in CI steps and serving start-ups, and plain lines and JSON need none of it.
@cache
def console(stderr: bool = False) -> Console:
    from rich.console import Console  # see above

    return Console(stderr=stderr, soft_wrap=True)


@contextmanager
def progress() -> Iterator[BarProgress | None]:
    """A progress bar on stderr when it is a terminal; None (no Rich import) otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from modelreg.display.render import BarProgress  # Rich: only on a terminal

    bar = BarProgress(console(stderr=True))
    try:
        yield bar
    finally:
        bar.close()


def event_out(event: Event, json_: bool) -> None:
    """What a command that wrote one event reports: the event as JSON, or its subject and tag."""
    if json_:
        json_out(jsonview.event_json(event))
        return
    line(f"{event.subject}  [tag {event.tag}]")
