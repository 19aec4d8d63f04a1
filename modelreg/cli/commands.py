"""The whole Typer app: every command registered on `options.app`."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from modelreg.cli import (
    commands_admin,
    commands_import,
    commands_model,
    commands_notify,
    commands_read,
    commands_serve,
    commands_store,
    commands_write,
)
from modelreg.cli.options import app

COMMAND_MODULES = (
    commands_read,
    commands_write,
    commands_model,
    commands_admin,
    commands_serve,
    commands_import,
    commands_notify,
    commands_store,
)  # importing them registers their commands

__all__ = ["COMMAND_MODULES", "app"]
