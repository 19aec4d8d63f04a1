"""`modelreg --help`: the everyday commands first, every summary whole (wrapped, never cut to "...")."""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from typer.core import TyperGroup

# Typer carries its own copy of click (typer._click); a plain `import click` may not exist at all,
# so the click objects below are typed loosely.

# The commands a team uses every day, in the order of a model's life.
EVERYDAY = ("init", "register", "promote", "alias", "rollback", "pull", "resolve", "show", "list", "history")


class HelpOrderGroup(TyperGroup):
    """The app's group: `list_commands` puts the everyday ones first; the help shows them in two sections."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        return [name for name in EVERYDAY if name in names] + [name for name in names if name not in EVERYDAY]

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        """The app's description, wrapped between words only (click would break `fraud-detector` at its hyphen)."""
        if not self.help:
            return
        formatter.write_paragraph()
        with formatter.indentation():
            width = max(formatter.width - formatter.current_indent, 30)
            wrapper = textwrap.TextWrapper(width, break_on_hyphens=False, break_long_words=False)
            for number, paragraph in enumerate(inspect.cleandoc(self.help).split("\n\n")):
                if number:
                    formatter.write("\n")
                for line in wrapper.wrap(" ".join(paragraph.split())):
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))  # the whole first sentence
        for title, section in (
            ("Everyday commands", [row for row in rows if row[0] in EVERYDAY]),
            ("More commands", [row for row in rows if row[0] not in EVERYDAY]),
        ):
            if section:
                with formatter.section(title):
                    _write_rows(formatter, section)


def _write_rows(formatter: Any, rows: list[tuple[str, str]]) -> None:
    """Like `write_dl`, but a line never breaks inside a word: `fraud-detector@2` stays whole."""
    first = max(len(name) for name, _ in rows) + 2
    width = max(formatter.width - formatter.current_indent - first, 30)
    wrapper = textwrap.TextWrapper(width, break_on_hyphens=False, break_long_words=False)
    for name, text in rows:
        lines = wrapper.wrap(text) or [""]
        formatter.write(f"{'':>{formatter.current_indent}}{name:<{first}}{lines[0]}\n")
        for more in lines[1:]:
            formatter.write(f"{'':>{formatter.current_indent + first}}{more}\n")
