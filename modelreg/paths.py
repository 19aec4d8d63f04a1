"""Where modelreg keeps its caches on this machine."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """`$XDG_CACHE_HOME/modelreg` (default `~/.cache/modelreg`): blobs, digests, parsed tags, URL views."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "modelreg"
