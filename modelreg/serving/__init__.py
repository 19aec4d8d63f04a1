"""The serving side: `sync` keeps a directory on the version a reference names (see loop, layout, plan)."""

from __future__ import annotations

from modelreg.serving.loop import Deployed, Record, SyncResult, sync

__all__ = ["Deployed", "Record", "SyncResult", "sync"]
