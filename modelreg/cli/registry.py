"""Opening the registry for the commands that write (the read commands need only its reader: see reads)."""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.api import Registry


def open_registry(fetch: bool = False, remote: str | None = None, repo: str | None = None) -> Registry:
    """The registry of the current directory, brought up to date first with `fetch`; or the one at `repo`."""
    from modelreg.api import Registry  # every operation: ~45 ms that `--help` and completion never pay (measured)

    if repo is not None:
        return Registry.open_url(repo)
    reg = Registry.open(Path.cwd())
    if fetch:
        reg.fetch(remote, strict=True)
    return reg
