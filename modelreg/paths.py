"""Where modelreg keeps its caches on this machine."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> str:
    """`$XDG_CACHE_HOME/modelreg` (default `~/.cache/modelreg`): blobs, digests, parsed refs, files at commits,
    URL views, signature verdicts, review evidence.

    A plain string, so the lean read path can use it without importing pathlib.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modelreg")


def cache_home() -> Path:
    from pathlib import Path  # ~5 ms (urllib, ipaddress) that `--version` never pays

    return Path(cache_dir())
