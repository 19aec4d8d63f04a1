"""Which events take effect: the policy of record applied to what the refs say (DESIGN §9).

State is the replay of the events that pass the checks `check-ref` and `verify` make: the claim
ref is present and points at the tag (a version tag's too: a version whose tag was replaced or
never claimed is not a version), the event concerns a registered version at its tagged commit,
a review-required stage change comes from a merged request, and a signature from an allowed
signer is there when signing is required. Any other event is left out of the state and
reported, one line per tag; it never breaks reads of the other events or models.

The expensive checks (signatures, review evidence) run only when the policy asks for them.
"""

from __future__ import annotations

from modelreg.core.refs import NO_VERSION, claim_ref, version_claim_ref
from modelreg.models import Event
from modelreg.read.context import Context


def claim_problem(event: Event, claims: dict[str, str]) -> str | None:
    """Why the claim ref of an event or version tag does not vouch for it (None when it does)."""
    if event.seq is None:
        ref = version_claim_ref(event.name, event.version)
        clash = f"{event.tag} was replaced after it was claimed"
    else:
        ref = claim_ref(event.name, event.seq)
        clash = f"two writers took seq {event.seq}"
    claim = claims.get(ref)
    if claim is None:
        return f"{event.tag} has no claim ref {ref}"
    if claim != event.object:
        return f"{ref} claims another tag object than {event.tag}: {clash}"
    return None


def rejections(ctx: Context, name: str, events: list[Event], claims: dict[str, str]) -> dict[str, str]:
    """Tag → why it does not take effect, for the events of model `name` that fail the policy."""
    reasons: dict[str, str] = {}
    for event in events:
        if (problem := claim_problem(event, claims)) is not None:
            reasons[event.tag] = problem
    config = ctx.config
    if config.require_signed:
        unsigned = [e for e in events if e.tag not in reasons]
        tags = {e.tag for e in unsigned}
        from modelreg.read.sigverify import signature_findings  # ~1 ms of start-up a registry without signing skips

        for finding in signature_findings(ctx, {name: unsigned}) if unsigned else ():
            # A finding about the allowed-signers file itself voids every signature.
            for tag in [finding.subject] if finding.subject in tags else sorted(tags):
                reasons.setdefault(tag, finding.message)
    registered = {e.version: e.commit for e in events if e.action == "register" and e.tag not in reasons}
    for event in events:
        if event.seq is None or event.tag in reasons or _versionless(event):
            continue
        if any(v not in registered for v in (event.version, *event.archived)):
            reasons[event.tag] = f"{event.tag} concerns a version whose version tag is missing or does not take effect"
        elif registered[event.version] != event.commit:
            reasons[event.tag] = f"{event.tag} points at another commit than its version's tag"
    pending = [e for e in events if e.seq is not None and e.tag not in reasons]
    if config.review_required and any(e.kind == "stage" and e.target in config.review_required for e in pending):
        from modelreg.read.evidence import review_findings  # ~0.5 ms of start-up a registry without review skips

        for finding in review_findings(ctx, {name: pending}):
            reasons.setdefault(finding.subject, finding.message)
    return reasons


def _versionless(event: Event) -> bool:
    """A model-level event written while the model had no version: it concerns no version tag or commit."""
    return event.version == NO_VERSION and event.kind == "model"


def admit(ctx: Context, name: str, events: list[Event], claims: dict[str, str]) -> tuple[list[Event], tuple[str, ...]]:
    """(the events that take effect, one warning per event that does not)."""
    reasons = rejections(ctx, name, events, claims)
    if not reasons:
        return events, ()
    kept = [e for e in events if e.tag not in reasons]
    unclaimed = sorted(tag for tag, reason in reasons.items() if reason.startswith(f"{tag} has no claim ref "))
    if len(unclaimed) > 1:  # a clone without the claim refs: one line saying what to fetch, not one per tag
        told = set(unclaimed)
        reasons = {tag: reason for tag, reason in reasons.items() if tag not in told}
    return kept, tuple(
        ([missing_claims(ctx, name, unclaimed)] if len(unclaimed) > 1 else [])
        + [
            f"ignoring {tag}: {reason.removeprefix(f'{tag}: ').removeprefix(f'{tag} ')}"
            for tag, reason in sorted(reasons.items())
        ]
    )


def missing_claims(ctx: Context, name: str, tags: list[str]) -> str:
    """The one warning for the tags of a model whose claim refs this clone does not hold."""
    remote = ctx.config.remote
    return (
        f"ignoring {len(tags)} tags of {name} ({tags[0]} … {tags[-1]}): this clone has no claim refs for them; "
        f"run `modelreg fetch` (or `git fetch {remote} 'refs/modelreg/*:refs/modelreg/*'`)"
    )
