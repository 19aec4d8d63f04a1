"""The serving side: `sync` keeps a directory on the version a reference names (see loop, layout, plan)."""

from __future__ import annotations

from modelreg.results import Deployed, Record, SyncResult
from modelreg.serving.loop import sync

__all__ = ["Deployed", "Record", "SyncResult", "sync"]
