"""Registering bytes a model already has: recorded all the same, with a word about it."""

from __future__ import annotations

from modelreg.read.policy import admit
from modelreg.read.reader import Reader
from modelreg.read.snapshot import Snapshot


def same_bytes(reader: Reader, name: str, digest: str, version: int, snap: Snapshot | None = None) -> tuple[str, ...]:
    """A warning when an earlier version of `name` has exactly the artifact `digest` (none otherwise).

    `snap`: the model's refs, when the write read them already (before it took `version`).
    """
    snap = snap if snap is not None else reader.snapshot(name)
    events, _ = admit(reader.context, name, snap.events.get(name, []), snap.claims)
    earlier = sorted(e.version for e in events if e.action == "register" and e.digest == digest and e.version < version)
    if not earlier:
        return ()
    return (f"{name} v{version}: same bytes as v{earlier[-1]} ({digest}); recorded as a new version all the same",)
