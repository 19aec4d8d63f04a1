"""Bringing a registry written by an earlier modelreg up to date: claim refs for its version tags.

Registries written before version claim refs existed have version tags that no
`refs/modelreg/versions/NAME/N` vouches for, and reads leave such versions out. `upgrade` claims
each unclaimed version tag that verifies as it stands (its manifest at its commit is well formed,
names that version and the digest its tag records; signed by an allowed signer when the registry
requires signatures) and reports the others, which stay out. Run it once, after `verify` has
shown nothing else is wrong, in a clone that is up to date with the remote.
"""

from __future__ import annotations

from modelreg.core.refs import version_claim_ref
from modelreg.models import Event
from modelreg.ops.checks import tagged_manifests
from modelreg.publish.fetching import fetch_for_write
from modelreg.publish.push import Target, publish
from modelreg.read.reader import Reader
from modelreg.read.sigverify import signature_findings
from modelreg.results import UpgradeResult


def upgrade(reader: Reader, target: Target) -> UpgradeResult:
    if target.remote is not None:
        fetch_for_write(reader, target, None)
    snap = reader.snapshot(None)
    unclaimed = {
        name: [e for e in events if e.seq is None and version_claim_ref(name, e.version) not in snap.claims]
        for name, events in snap.events.items()
    }
    unclaimed = {name: events for name, events in unclaimed.items() if events}
    manifests, findings = tagged_manifests(reader, unclaimed)
    refused = {f.subject: f.message for f in findings}
    for events in unclaimed.values():
        for event in events:
            manifest = manifests.get(event.tag)
            if manifest is not None and event.digest is not None and event.digest != manifest.artifact.digest:
                refused[event.tag] = f"{event.tag} records {event.digest}, but its manifest names another digest"
    if reader.config.require_signed:
        pending = {name: [e for e in events if e.tag not in refused] for name, events in unclaimed.items()}
        refused.update((f.subject, f.message) for f in signature_findings(reader.context, pending))
    claimed = sorted((e for events in unclaimed.values() for e in events if e.tag not in refused), key=_order)
    if claimed:
        claims = [(version_claim_ref(e.name, e.version), e.object) for e in claimed]
        publish(reader.git, target, claims, "modelreg: upgrade: claim version tags")
    return UpgradeResult(tuple(e.tag for e in claimed), tuple(sorted(refused.values())))


def _order(event: Event) -> tuple[str, int]:
    return event.name, event.version
