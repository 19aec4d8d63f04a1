"""The `modelreg` console command: a memoized answer when one is still true, else the full CLI.

Kept apart from `modelreg.cli` so that a replayed `resolve` never imports Typer or the registry.
"""

from __future__ import annotations

import sys

from modelreg import memo


def run() -> None:
    try:
        replayed = memo.replay(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit(130)  # ExitCode.INTERRUPTED, as the full CLI exits; modelreg.errors is not imported here
    if replayed:
        sys.exit(0)
    from modelreg.cli import run as run_cli

    run_cli()
