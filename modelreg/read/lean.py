"""Resolving a reference from the events that can decide it, newest first (DESIGN §10).

The full read replays every event of a model that the policy admits. The answer to one
reference needs far fewer: the newest retire or unretire that takes effect, the newest
registration (for `latest`), the newest events of one stage or alias, and the events after
those that could still move the version found. Ref names carry the target and seq, peeled ids
the commit (an event takes effect only at its version's commit), so those events are chosen
from one `for-each-ref` without messages; only they are read, parsed and checked, newest first,
falling back past one the policy refuses (see admission).

Every step mirrors `core.events.replay` on the admitted events, so the answer is the full
replay's (tests/unit/test_lean_equivalence.py compares the two on generated histories). What
the lean read cannot settle cheaply (a reference that does not resolve, a model with no
version, the `archived` stage whose holders any stage event may set), it leaves to the full
read, which also words every error.
"""

from __future__ import annotations

from collections.abc import Iterator

from modelreg.core.events import ARCHIVED
from modelreg.core.refs import ModelRef, check_name
from modelreg.models import Event, ModelState
from modelreg.read.admission import Entry, Judge, Listing, MovedTag, list_refs
from modelreg.read.context import Context
from modelreg.read.snapshot import Snapshot

# Below this many tags, the full read costs less: one listing, and its snapshot is kept between
# processes, where the lean read opens tags and claims in two to four more git calls.
FULL_READ_BELOW = 256


_FIRST_READ = 4  # events read at once when a walk back starts; each later read is four times larger


class Undecided(Exception):
    """The lean read leaves this reference to the full replay."""


class Decided:
    """What the lean read found: the version a reference names, with what `resolve` shows of it."""

    def __init__(
        self,
        state: ModelState,
        registration: Event,
        warnings: tuple[str, ...],
        deciding: Event,
    ) -> None:
        self.state = state
        self.registration = registration
        self.warnings = warnings
        self.deciding = deciding  # the event that made the reference name the version (serving.plan)
        self.snap = Snapshot({}, {}, {}, (), {})


def worth_it(listing: Listing) -> bool:
    """Whether a model with these tags is read faster lean than in full."""
    return len(listing.versions) + sum(map(len, listing.targets.values())) >= FULL_READ_BELOW


def decide(ctx: Context, ref: ModelRef, full: bool, listing: Listing | None = None) -> Decided | None:
    """The version `ref` names and its state as the full replay has it; None: ask the full replay.

    With `full` the version's stage and aliases are found too (`resolve`, `show`, `pull`);
    without, only what names the version (`locate`). `listing`: the model's tags, if listed already.
    """
    judge = Judge(ctx, check_name(ref.name), listing or list_refs(ctx, ref.name))
    try:
        return Query(judge).decide(ref, full)
    except (Undecided, MovedTag):
        return None


def touching(ctx: Context, name: str, version: int) -> list[Event] | None:
    """The events at `version`'s commit that take effect (its stage, alias, edit and model-level events): what
    MLflow's `last_updated_timestamp` of a version reads, from the model's refs by id and those tags alone.
    None: the full read (a version tag moved after its claim)."""
    judge = Judge(ctx, check_name(name), list_refs(ctx, name))
    entry = judge.listing.versions.get(version)
    if entry is None:
        return []
    try:
        commit = judge.commit_of(entry)
        own = [e for entries in judge.listing.targets.values() for e in entries if judge.commit_of(e) == commit]
        judge.load(own)
        return [event for e in sorted(own) if (event := judge.admitted(e)) is not None]
    except MovedTag:
        return None


class Query:
    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.listing = judge.listing
        self.config = judge.ctx.config
        self.held: dict[str, Event] = {}  # stage → the assignment `holder` found
        self.newest: dict[str, Event] = {}  # alias → its newest event that takes effect (`alias_value`)

    def decide(self, ref: ModelRef, full: bool) -> Decided:
        if not self.listing.versions or "_delete" in self.listing.targets:
            raise Undecided  # no version, or a tombstone (it removes versions, stages, aliases): the full replay
        retired = self.retired()
        if retired is not None and ref.version is None:
            raise Undecided  # select refuses it: the full read words why
        if ref.version is not None:
            version: int | None = ref.version
        elif ref.alias is not None:
            if ref.alias in self.config.stages:
                raise Undecided
            version = self.alias_value(ref.alias, self.listing.targets.get(ref.alias, []))
        elif ref.stage is not None:
            if ref.stage not in self.config.stages or ref.stage == ARCHIVED:
                raise Undecided  # any stage event may archive a version: that needs them all
            version = self.holder(ref.stage)
        else:
            version = self.latest()
        registration = self.judge.registration(version) if version is not None else None
        if version is None or registration is None:
            raise Undecided
        deciding = registration  # as serving.plan.deciding_event finds it in the full replay
        if ref.stage is not None:
            deciding = self.held[ref.stage]
        elif ref.alias is not None:
            deciding = self.newest[ref.alias]
        if full:
            # The holder of a stage keeps it through every later event (`holder`): that is its stage.
            stage = ref.stage if ref.stage is not None else self.stage_of(version)
            aliases = self.aliases_of(version)
        else:
            stage = ref.stage
            aliases = (ref.alias,) if ref.alias is not None else ()
        state = ModelState(
            name=self.judge.name,
            versions=(version,),
            stages={version: stage} if stage is not None else {},
            stage_since={version: deciding.seq or 0},
            aliases=dict.fromkeys(aliases, version),
            holders={},
            last_seq=0,
            retired=retired,
        )
        return Decided(state, registration, self.judge.warnings(), deciding)

    # --- walking back ----------------------------------------------------------------------------

    def _admitted(self, entries: list[Entry]) -> Iterator[Event]:
        """The events of `entries` (newest first) that take effect, read in growing batches as the walk goes."""
        size, start = _FIRST_READ, 0
        while start < len(entries):
            chunk = entries[start : start + size]
            self.judge.load(chunk)
            for entry in chunk:
                event = self.judge.admitted(entry)
                if event is not None:
                    yield event
            start += size
            size = min(size * 4, 1024)

    def after(self, entry: Entry) -> list[Event]:
        """The stage and alias events after `entry` that take effect, oldest first."""
        later = [e for e in self.listing.changes if (e.seq, e.tag) > (entry.seq, entry.tag)]
        return list(reversed(list(self._admitted(later))))

    def retired(self) -> str | None:
        """`replay`'s `retired`: the newest retire or unretire that takes effect decides."""
        targets = self.listing.targets
        entries = sorted([*targets.get("_retire", []), *targets.get("_unretire", [])], reverse=True)
        for event in self._admitted(entries):
            return event.tag if event.action == "retire" else None
        return None

    def latest(self) -> int | None:
        versions = self.listing.versions
        ordered = [versions[v] for v in sorted(versions, reverse=True)]
        size, start = _FIRST_READ, 0
        while start < len(ordered):
            chunk = ordered[start : start + size]
            self.judge.load(chunk)
            for entry in chunk:
                registration = self.judge.registration(_version(entry))
                if registration is not None:
                    return registration.version
            start += size
            size = min(size * 4, 1024)
        return None

    def alias_value(self, alias: str, entries: list[Entry]) -> int | None:
        """`replay`'s `aliases[alias]` from its events (newest first): the newest assignment, unless undone."""
        undone: set[int] = set()
        for event in self._admitted(entries):
            if event.kind != "alias":
                continue
            self.newest.setdefault(alias, event)
            if event.action == "unassign":
                undone.add(event.version)
                continue
            return None if event.version in undone else event.version
        return None

    def holder(self, stage: str) -> int | None:
        """`stage_holder(stage)`: the newest assignment to the stage whose version nothing after it moved."""
        for entry, event in self._stage_assignments(self.listing.targets.get(stage, [])):
            if event.version not in event.archived and self.stays(event.version, stage, self.after(entry)):
                self.held[stage] = event
                return event.version
        return None

    def archived_holder(self) -> int | None:
        """`stage_holder("archived")`: any stage event may archive versions, so the newest event that archived one
        that nothing after it moved decides; events that archive nothing are not judged at all."""
        self.judge.load(self.listing.changes)
        for entry in self.listing.changes:
            event = self.judge.event(entry)
            if event is None or not _archives(event) or self.judge.admitted(entry) is None:
                continue
            later = self.after(entry)
            staying = [v for v in _archives(event) if self.stays(v, ARCHIVED, later)]
            if len(staying) > 1:
                raise Undecided  # archived at the same seq: the full replay's order of versions decides
            if staying:
                return staying[0]
        return None

    def described(self) -> tuple[str, dict[str, object]]:
        """`replay`'s description and tags: model-level create and describe events, oldest first, folded."""
        targets = self.listing.targets
        entries = sorted([*targets.get("_create", []), *targets.get("_describe", [])])
        description, tags = "", {}
        for event in reversed(list(self._admitted(entries[::-1]))):
            if event.action == "create":
                description, tags = event.description or "", dict(event.set_tags)
            else:
                description = description if event.description is None else event.description
                tags = {k: v for k, v in tags.items() if k not in event.removed_tags} | dict(event.set_tags)
        return description, tags

    def _stage_assignments(self, entries: list[Entry]) -> Iterator[tuple[Entry, Event]]:
        by_tag = {e.tag: e for e in entries}
        for event in self._admitted(entries):
            if event.kind == "stage" and event.action != "unassign":
                yield by_tag[event.tag], event

    @staticmethod
    def stays(version: int, stage: str, later: list[Event]) -> bool:
        """Whether `version`, given `stage` before the events `later` (oldest first), keeps it through them."""
        for event in later:
            if event.kind != "stage":
                continue
            if event.action == "unassign":
                if event.version == version and event.target == stage:
                    return False
            elif event.version == version or version in event.archived:
                return False
        return True

    def stage_of(self, version: int) -> str | None:
        """`replay`'s `stages.get(version)`: from the version's newest stage assignment on, or from the start."""
        commit = self.judge.commit_of(self.listing.versions[version])
        own = [e for e in self.listing.changes if self.judge.commit_of(e) == commit]  # only these can be about it
        stage: str | None = None
        later: list[Event] | None = None
        for entry, event in self._stage_assignments(own):
            if event.version == version:
                stage = ARCHIVED if version in event.archived else event.target
                later = self.after(entry)
                break
        if later is None:  # no assignment of its own: only another event's `archived` can give it a stage
            self.judge.load(self.listing.changes)  # read, not judged: an event that archives it is judged below
            if not any((e := self.judge.events[entry.tag]) and version in e.archived for entry in self.listing.changes):
                return None
            later = list(reversed(list(self._admitted(self.listing.changes))))
        for event in later:
            if event.kind != "stage":
                continue
            if event.action == "unassign":
                if event.version == version and stage == event.target:
                    stage = None
                continue
            if event.version == version:
                stage = event.target
            if version in event.archived:
                stage = ARCHIVED
        return stage

    def aliases_of(self, version: int) -> tuple[str, ...]:
        """`replay`'s aliases that name `version`: each alias's newest assignment, the newest events read at once.

        Peeling every tag to find the events at the version's commit would open them all.
        """
        stages = self.config.stages
        aliases = {t: es for t, es in self.listing.targets.items() if not t.startswith("_") and t not in stages}
        self.judge.load([e for entries in aliases.values() for e in entries[:_FIRST_READ]])
        return tuple(
            sorted(target for target, entries in aliases.items() if self.alias_value(target, entries) == version)
        )


def _archives(event: Event) -> tuple[int, ...]:
    """The versions a stage event puts in the `archived` stage."""
    if event.kind != "stage" or event.action == "unassign":
        return ()
    return (event.version, *event.archived) if event.target == ARCHIVED else event.archived


def _version(entry: Entry) -> int:
    return int(entry.tag.rpartition("@v")[2])
