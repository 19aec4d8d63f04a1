"""The whole Typer app: every command registered on `options.app`."""

from __future__ import annotations

from modelreg.cli import (
    commands_admin,
    commands_import,
    commands_model,
    commands_notify,
    commands_read,
    commands_serve,
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
)  # importing them registers their commands

__all__ = ["COMMAND_MODULES", "app"]
