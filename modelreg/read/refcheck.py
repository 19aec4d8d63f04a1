"""`check-ref` of one tag from the events that can decide it (DESIGN §10): the tag itself, the
registrations it names, and, to say whether it is still current, what came after it.

It answers only when everything is in order: the tag is a well-formed version or stage/alias event,
alone on its seq, every check `verify` makes of it passes, and its version takes effect. Anything else
(a finding to report, a model-level event, a rollback whose review rests on an earlier holder) is left
to the full read, which words the error (ops.checks.check_ref).
"""

from __future__ import annotations

from typing import NamedTuple

from modelreg.core.refs import MODEL_TARGETS, parse_tag_name
from modelreg.models import Event, ModelState, RefCheck
from modelreg.read.admission import Entry, Judge, MovedTag, list_refs
from modelreg.read.evidence import review_findings
from modelreg.read.lean import Query, Undecided
from modelreg.read.policy import claim_problem
from modelreg.read.reader import ModelView, Reader
from modelreg.read.snapshot import Snapshot


class Checked(NamedTuple):
    event: Event
    registration: Event  # of the event's version, taking effect
    retired: str | None
    current: bool


def lean_ref_check(reader: Reader, tag: str) -> RefCheck | None:
    """What `check-ref` reports about `tag` when it verifies; None: ask the full read."""
    parsed = parse_tag_name(tag)
    if parsed is None or parsed.target in MODEL_TARGETS:
        return None
    judge = Judge(reader.context, parsed.name, list_refs(reader.context, parsed.name))
    if "_delete" in judge.listing.targets:
        return None  # a tombstone removes versions from the state: the full read judges it
    try:
        checked = _check(judge, tag)
    except (Undecided, MovedTag):
        return None
    event, registration = checked.event, checked.registration
    state = ModelState(event.name, (event.version,), {}, {}, {}, {}, 0, checked.retired)
    view = ModelView(state, [registration], judge_snapshot(), ())
    manifest = reader.version(view, event.version).manifest
    return ref_check(reader, tag, event, manifest.artifact.digest, checked.current, checked.retired)


def judge_snapshot() -> Snapshot:
    return Snapshot({}, {}, {}, (), {})


def _check(judge: Judge, tag: str) -> Checked:
    listing = judge.listing
    entry = next((e for es in (listing.versions.values(), *listing.targets.values()) for e in es if e.tag == tag), None)
    if entry is None or (entry.seq and sum(e.seq == entry.seq for e in listing.changes) > 1):
        raise Undecided  # missing, or sharing its seq: findings the full read reports
    event = judge.event(entry)
    if event is None or claim_problem(event, judge.claims) is not None:
        raise Undecided
    if event.seq is not None:
        for version in (event.version, *event.archived):
            known = listing.versions.get(version)
            registered = judge.event(known) if known is not None else None
            if registered is None or (version == event.version and registered.commit != event.commit):
                raise Undecided
        if event.request is None and event.action == "rollback":
            raise Undecided  # its review may rest on an earlier holder among every event
        ctx = judge.ctx
        if ctx.config.review_required and review_findings(ctx, {event.name: [event]}, only=event.tag):
            raise Undecided
    if judge.ctx.config.require_signed and event.tag in judge.reasons:
        raise Undecided  # its signature (checked when it was read) does not count
    registration = judge.registration(event.version)
    if registration is None:
        raise Undecided
    retired = Query(judge).retired()
    return Checked(event, registration, retired, _current(judge, entry, event, retired))


def _current(judge: Judge, here: Entry, event: Event, retired: str | None) -> bool:
    """`_still_in_effect` of ops.checks, from the events after this one."""
    if event.seq is None:
        return True  # its registration takes effect
    if retired is not None:
        return False
    q = Query(judge)
    if event.kind == "stage":
        if event.action == "unassign" or judge.admitted(here) is None or event.version in event.archived:
            return False
        return q.stays(event.version, event.target or "", q.after(here))
    entries = judge.listing.targets.get(event.target or "", [])
    if any(judge.admitted(e) is not None for e in entries if e.seq > here.seq):
        return False
    value = q.alias_value(event.target or "", entries)
    return value is None if event.action == "unassign" else value == event.version


def ref_check(reader: Reader, tag: str, event: Event, digest: str, current: bool, retired: str | None) -> RefCheck:
    """What `check-ref` reports about `tag`, whichever read judged it."""
    return RefCheck(
        tag=tag,
        model=event.name,
        version=event.version,
        action=event.action,
        kind=event.kind,
        target=event.target,
        seq=event.seq,
        digest=digest,
        store=reader.config.store,
        actor=event.actor,
        date=event.date,
        current=current,
        request=event.request,
        approved_by=event.approved_by,
        policy=reader.context.policy_commit,
        retired=retired,
    )
