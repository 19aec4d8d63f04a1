"""The serving side: `sync` keeps a directory on the version a reference names (see loop, layout, plan)."""

from __future__ import annotations

from modelreg.serving.loop import sync
from modelreg.serving.records import Deployed, Record, SyncResult

__all__ = ["Deployed", "Record", "SyncResult", "sync"]
