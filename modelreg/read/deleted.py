"""Which versions were deleted (by a tombstone the policy admits) long enough ago for `gc` to take their blobs."""

from __future__ import annotations

from datetime import UTC, datetime

from modelreg.core.events import replay
from modelreg.read.policy import admit
from modelreg.read.reader import Reader
from modelreg.read.snapshot import Snapshot


def collectable(reg: Reader, snap: Snapshot, grace_s: float) -> set[tuple[str, int]]:
    """(model, version) of every version deleted, by an event the policy admits, more than `grace_s` ago.

    `gc` leaves their blobs unreferenced (a blob another version uses stays referenced through it).
    """
    cutoff = datetime.now(UTC).timestamp() - grace_s
    gone: set[tuple[str, int]] = set()
    for model, events in snap.events.items():
        admitted, _ = admit(reg.context, model, events, snap.claims)
        old = [e for e in admitted if e.action != "delete" or _epoch(e.date) < cutoff]
        registered = {e.version for e in admitted if e.action == "register"}
        gone |= {(model, v) for v in registered - set(replay(model, old).versions)}
    return gone


def _epoch(date: str) -> float:
    try:
        return datetime.fromisoformat(date).timestamp()
    except ValueError:
        return float("inf")  # an undated deletion is never old enough
