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
  - for another S, the events since V's registration (the seqs above its `after`): V holds S
    only if one of them, taking effect, gave it S (the full read then decides whether it still
    does; a registration without `after`, from an older modelreg, is left to it too);

and the seq from ref names (publish.numbering). Where this cannot settle the answer cheaply and
exactly (more than MAX_READ events to read after the assignment or registration in question; V's
own events gave it a stage without a single holder, perhaps held still: the full read decides and
words it; the `archived` stage; a tombstone; a moved tag, which the full read
reads through its claim), it answers None and the full replay decides, as before.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any

from modelreg.core import names
from modelreg.core.events import ARCHIVED
from modelreg.core.refs import MAX_NUMBER, MODEL_TARGETS, TAGS_PREFIX, claim_ref, is_event_target, tag_patterns
from modelreg.git.claimed import claimed_tags
from modelreg.models import Event, ModelState
from modelreg.publish.numbering import above, last_seq
from modelreg.read.admission import Entry, Judge, Listing, MovedTag
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
    lines = _Lines(name, reader.git.ref_ids(tag_patterns(name)))
    listing = Listing(_Versions(lines), _Targets(lines), [])  # what list_refs lists, looked up as asked
    if version not in listing.versions or "_delete" in listing.targets:
        return None  # not found, or a tombstone: the full read words it, or replays it
    judge = Judge(reader.context, name, listing)
    query = Query(judge)
    try:
        retired = query.retired()
        registration = judge.registration(version)
        if registration is None:
            return None
        if single_holder:  # exact: `version` holds the stage if it is among them
            holders = _holders(query, judge, stage, lines)
        else:
            holders = None if _gave_stage(judge, registration, stage, lines) else ()
    except (Undecided, MovedTag):
        return None
    if holders is None or _moved_event_tag(judge, lines):
        return None
    read = (int(number) for tag in judge.events if "#" in tag and _is_number(number := tag.rpartition("#")[2]))
    seq = last_seq(reader.git, name, lines.text, max(read, default=registration.after or 0))
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


def _gave_stage(judge: Judge, registration: Event, stage: str, lines: _Lines) -> bool:
    """Whether an event of the version that takes effect assigned it `stage` (the only way it can hold it);
    True too when that cannot be told cheaply (the full read decides then).

    Its events are at its commit and came after its registration: past the last seq its writer had
    seen (`after`), as every writer that sees the version has seen those events too. Only those are
    read. A registration written before modelreg recorded `after` leaves it to the full read.
    """
    if registration.after is None:
        return True
    later = lines.changes_above(registration.after)
    if len(later) > MAX_READ:
        return True  # an old version: its events are among too many to read one by one (the full read has a cache)
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


def _holders(query: Query, judge: Judge, stage: str, lines: _Lines) -> tuple[int, ...] | None:
    """The versions holding `stage` now, as the full replay has them; None when an event under the stage's
    name is no stage event (left to the full replay).

    The stage and alias events from the oldest candidate's assignment on become the listing's
    changes, which `Query.after` reads from.
    """
    entries = judge.listing.targets.get(stage, [])  # newest first
    decided: set[int] = set()  # versions with a newer event of this stage, seen already
    archived: set[int] = set()  # versions a newer assignment of this stage archived
    candidates: list[tuple[Entry, int]] = []  # (its newest assignment, version), newest first
    for entry, event in _admitted(judge, entries):
        if event.kind != "stage":
            return None
        if event.version not in decided and event.version not in archived and event.action != "unassign":
            candidates.append((entry, event.version))
        decided.add(event.version)
        archived.update(event.archived)
    if candidates:
        changes = lines.changes_above(candidates[-1][0].seq - 1)
        if len(changes) > MAX_READ:
            return None  # held since long ago: the events after it are too many to read one by one
        judge.listing.changes.extend(changes)
    return tuple(sorted(v for entry, v in candidates if Query.stays(v, stage, query.after(entry))))


_NOT_IN_NAMES = frozenset("@#/")
# Past this many events to read one by one (in batches, each judged), the full view is cheaper: one read of
# every tag, or its cached parse.
MAX_READ = 1000


class _Lines:
    """One model's tags as `for-each-ref` lists them (sorted by name), found by name: never parsed whole.

    At 100,000 tags a loop over every line costs most of a promotion's budget; a bisection
    finds one tag, or the tags of one target (their names share a prefix), in microseconds.
    """

    def __init__(self, name: str, text: str) -> None:
        self.key = names.encode(name)
        self.text = text
        self.lines = text.splitlines()

    def find(self, tag: str) -> str | None:
        """The object id of the tag named `tag` (no `refs/tags/`), if it is listed."""
        start = f"{TAGS_PREFIX}{tag} "
        index = bisect_left(self.lines, start)
        if index < len(self.lines) and self.lines[index].startswith(start):
            return self.lines[index][len(start) :]
        return None

    def target(self, target: str) -> list[Entry]:
        """The event tags of `target`, newest first, as `admission.list_refs` lists them."""
        if _NOT_IN_NAMES & set(target) or not is_event_target(target):
            return []
        prefix = f"{TAGS_PREFIX}{self.key}#{target}#"
        low, high = bisect_left(self.lines, prefix), bisect_left(self.lines, prefix + "\uffff")
        entries = []
        for line in self.lines[low:high]:
            seq, _, obj = line[len(prefix) :].partition(" ")
            if _is_number(seq):
                entries.append(Entry(int(seq), line[len(TAGS_PREFIX) : len(prefix)] + seq, obj))
        return sorted(entries, reverse=True)

    def changes_above(self, seq: int) -> list[Entry]:
        """The stage and alias event tags (not model-level) with a seq above `seq`, newest first.

        One scan for the seqs above it (a regular expression that starts at each `#`), then only
        their lines are parsed.
        """
        found = []
        prefix = f"{TAGS_PREFIX}{self.key}#"
        for match in re.finditer(above(seq), self.text):
            start = self.text.rfind("\n", 0, match.start()) + 1
            end = self.text.find("\n", match.end())
            ref, _, obj = self.text[start : end if end >= 0 else None].partition(" ")
            target, _, number = ref.removeprefix(prefix).partition("#")
            if (
                ref.startswith(prefix)
                and target not in MODEL_TARGETS
                and number == match[1]
                and _is_number(number)
                and not _NOT_IN_NAMES & set(target)
                and is_event_target(target)
            ):
                found.append(Entry(int(number), ref[len(TAGS_PREFIX) :], obj))
        return sorted(found, reverse=True)


class _Versions(dict[int, Entry]):
    """`Listing.versions`, each looked up when first asked for (a judge asks for a handful)."""

    def __init__(self, lines: _Lines) -> None:
        super().__init__()
        self._lines = lines
        self._absent: set[object] = set()

    def _known(self, version: object) -> bool:
        if dict.__contains__(self, version):
            return True
        if version in self._absent or not isinstance(version, int) or isinstance(version, bool):
            return False
        tag = f"{self._lines.key}@v{version}"
        obj = self._lines.find(tag) if 0 < version <= MAX_NUMBER else None
        if obj is None:
            self._absent.add(version)
            return False
        dict.__setitem__(self, version, Entry(0, tag, obj))
        return True

    def __contains__(self, version: object) -> bool:
        return self._known(version)

    def __getitem__(self, version: int) -> Entry:
        if not self._known(version):
            raise KeyError(version)
        return dict.__getitem__(self, version)

    def get(self, version: int, default: Any = None) -> Any:
        return dict.__getitem__(self, version) if self._known(version) else default


class _Targets(dict[str, list[Entry]]):
    """`Listing.targets`, each target's tags listed when first asked for."""

    def __init__(self, lines: _Lines) -> None:
        super().__init__()
        self._lines = lines

    def _entries(self, target: str) -> list[Entry]:
        if not dict.__contains__(self, target):
            dict.__setitem__(self, target, self._lines.target(target))
        return dict.__getitem__(self, target)

    def __contains__(self, target: object) -> bool:
        return isinstance(target, str) and bool(self._entries(target))

    def __getitem__(self, target: str) -> list[Entry]:
        entries = self._entries(target)
        if not entries:
            raise KeyError(target)
        return entries

    def get(self, target: str, default: Any = None) -> Any:
        return self._entries(target) if target in self else default


def _is_number(text: str) -> bool:
    """`[1-9][0-9]{0,18}` up to 2**63 - 1, as tag names carry versions and seqs."""
    return 0 < len(text) <= 19 and text.isascii() and text.isdigit() and text[0] != "0" and int(text) <= MAX_NUMBER


def _admitted(judge: Judge, entries: list[Entry]) -> list[tuple[Entry, Event]]:
    """The (entry, event) of `entries` that take effect, in their order; all read in one batch."""
    judge.load(entries)
    return [(entry, event) for entry in entries if (event := judge.admitted(entry)) is not None]


def _moved_event_tag(judge: Judge, lines: _Lines) -> bool:
    """Whether an event tag read here was moved after its claim took it: the full read takes the claimed
    tag object (read.claimwins). A claim naming a tag of another name (two writers on one seq) is no move."""
    differ = {}
    for tag in judge.events:
        seq = tag.rpartition("#")[2]
        if "#" in tag and _is_number(seq):
            claim = claim_ref(judge.name, int(seq))
            claimed = judge.claims.get(claim)
            if claimed is not None and claimed != lines.find(tag):
                differ[claim] = tag
    records = claimed_tags(judge.ctx.git, sorted(differ)) if differ else {}
    return any(record.tag == differ[claim] for claim, record in records.items())
