"""What a promotion needs of a model, from the events that can decide it (DESIGN §10, for a write).

`promote NAME V S` checks that the model is in service, that V takes effect and does not hold S
already, and archives the versions holding S when S is single-holder; the event takes the next
seq. The full view replays every event of the model: at 100,000 events that is seconds in a fresh
clone. This view reads, through the lean read's judge (claim, signature, review evidence: each
tag read and judged once, as `policy.admit` judges it), only

  - the newest retire or unretire that takes effect (`lean.Query.retired`);
  - V's registration;
  - for a single-holder S, the events of S, newest first: a version holds S when its newest
    assignment to S is not archived by a later one and no event after that assignment moves it
    (those later events are read: `lean.Query.after`, as a lean `resolve NAME/S` reads them);
  - for another S, the events since V's registration: V holds S only if one of them, taking
    effect, gave it S (and the full read then decides whether it still does);

and the seq from ref names (publish.numbering). Where this cannot settle the answer cheaply and
exactly (V's own events gave it a stage without a single holder, perhaps held still: the full
read decides and words it; the `archived` stage; a tombstone; a moved tag, which the full read
reads through its claim), it answers None and the full replay decides, as before.
"""

from __future__ import annotations

from modelreg.core.events import ARCHIVED
from modelreg.core.refs import claim_ref
from modelreg.models import Event, ModelState
from modelreg.publish.numbering import last_seq
from modelreg.read.admission import Entry, Judge, MovedTag, list_refs
from modelreg.read.lean import Query, Undecided
from modelreg.read.reader import ModelView, Reader
from modelreg.read.snapshot import Snapshot


def promotion_view(reader: Reader, name: str, version: int, stage: str, single_holder: bool) -> ModelView | None:
    """The model as far as promoting `version` to `stage` looks at it; None: use the full view.

    The state holds `version` (which takes effect), whether it holds `stage` already, the versions
    holding a `single_holder` stage (which the promotion archives), whether the model is retired,
    and the highest seq taken; its events are `version`'s registration.
    """
    if stage == ARCHIVED:
        return None  # any stage event may archive a version: that needs them all
    listing = list_refs(reader.context, name)
    if version not in listing.versions or "_delete" in listing.targets:
        return None  # not found, or a tombstone: the full read words it, or replays it
    judge = Judge(reader.context, name, listing)
    query = Query(judge)
    try:
        retired = query.retired()
        registration = judge.registration(version)
        if registration is None:
            return None
        if single_holder:
            holders = _holders(query, judge, stage)  # exact: `version` holds the stage if it is among them
        else:
            holders = None if _gave_stage(judge, registration, stage) else ()
    except (Undecided, MovedTag):
        return None
    if holders is None or _moved_event_tag(judge):
        return None
    seq = last_seq(reader.git, name)
    state = ModelState(
        name=name,
        versions=(version,),
        stages=dict.fromkeys(holders, stage),
        stage_since=dict.fromkeys(holders, 0),
        aliases={},
        holders={},
        last_seq=seq,
        retired=retired,
    )
    return ModelView(state, [registration], Snapshot({}, {name: {seq}}, {}, (), {}), judge.warnings())


def _gave_stage(judge: Judge, registration: Event, stage: str) -> bool:
    """Whether an event of the version that takes effect assigned it `stage` (the only way it can hold it).

    Its events are at its commit and came after its registration: past the last seq its writer had
    seen (`after`), as every writer that sees the version has seen those events too. Only those are
    read; without `after` (a registration written before modelreg recorded it), every change is.
    """
    after = registration.after if registration.after is not None else 0
    later = [e for e in judge.listing.changes if e.seq > after]
    judge.load(later)
    for entry in later:
        event = judge.events.get(entry.tag)
        if event is None or event.commit != registration.commit or event.version != registration.version:
            continue
        admitted = judge.admitted(entry)
        if (
            admitted is not None
            and admitted.kind == "stage"
            and admitted.action != "unassign"
            and admitted.target == stage
        ):
            return True
    return False


def _holders(query: Query, judge: Judge, stage: str) -> tuple[int, ...] | None:
    """The versions holding `stage` now, as the full replay has them; None when an event under the stage's
    name is no stage event (left to the full replay)."""
    entries = judge.listing.targets.get(stage, [])  # newest first
    decided: set[int] = set()  # versions with a newer event of this stage, seen already
    archived: set[int] = set()  # versions a newer assignment of this stage archived
    holders: list[int] = []
    for entry, event in _admitted(judge, entries):
        if event.kind != "stage":
            return None
        held = event.version not in decided and event.version not in archived and event.action != "unassign"
        if held and Query.stays(event.version, stage, query.after(entry)):
            holders.append(event.version)
        decided.add(event.version)
        archived.update(event.archived)
    return tuple(sorted(holders))


def _admitted(judge: Judge, entries: list[Entry]) -> list[tuple[Entry, Event]]:
    """The (entry, event) of `entries` that take effect, in their order; all read in one batch."""
    judge.load(entries)
    return [(entry, event) for entry in entries if (event := judge.admitted(entry)) is not None]


def _moved_event_tag(judge: Judge) -> bool:
    """Whether an event tag read here is not the tag object its claim names: the full read takes the claim's."""
    for entries in judge.listing.targets.values():
        for entry in entries:
            if entry.tag in judge.events:
                claimed = judge.claims.get(claim_ref(judge.name, entry.seq))
                if claimed is not None and claimed != entry.object:
                    return True
    return False
