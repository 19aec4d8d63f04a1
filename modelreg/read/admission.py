"""The policy of record, applied one event at a time: what a lean read needs (DESIGN §10).

`policy.admit` judges every event of a model at once. A lean read starts from ref names and ids
alone (one `for-each-ref` without messages) and asks, newest first, whether one event takes
effect: only then is its tag read, parsed and checked (claim, signature, its version's
registration, review evidence). Each answer is the one `policy.rejections` gives for that tag, in
the same order of checks and with the same words, so a replay of what is admitted here agrees
with the full replay wherever it looks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from modelreg.core import names
from modelreg.core.events import event_from_tag
from modelreg.core.refs import (
    MAX_NUMBER,
    MODEL_TARGETS,
    NO_VERSION,
    TAGS_PREFIX,
    claim_ref,
    is_event_target,
    parse_tag_name,
    tag_patterns,
    version_claim_ref,
)
from modelreg.errors import MalformedEvent
from modelreg.git.peeled import peeled_ids, read_tags, ref_ids, resolve_refs
from modelreg.models import Event
from modelreg.read.context import Context
from modelreg.read.policy import claim_problem, missing_claims


class Entry(NamedTuple):
    """One modelreg tag of the model as its ref says: no message read."""

    seq: int  # 0 for a version tag
    tag: str
    object: str


class Listing(NamedTuple):
    """Names and ids of one model's tags (claim refs are looked up one by one, when a tag is judged)."""

    versions: dict[int, Entry]
    targets: dict[str, list[Entry]]  # target → its event tags, newest first (seq, then tag, descending)
    changes: list[Entry]  # every stage or alias event tag (not model-level), newest first


def list_refs(ctx: Context, name: str) -> Listing:
    text = ref_ids(ctx.git, tag_patterns(name))
    versions: dict[int, Entry] = {}
    targets: dict[str, list[Entry]] = {}
    key = names.encode(name)  # a model's name as tag names carry it (core.names)
    version_prefix, event_prefix = f"{TAGS_PREFIX}{key}@v", f"{TAGS_PREFIX}{key}#"
    valid: dict[str, bool] = {}  # target → whether a tag name may carry it (few targets, many tags)
    for line in text.splitlines():
        # `parse_tag_name` by string operations: the patterns fixed the model, and this runs once per tag.
        ref, _, obj = line.partition(" ")
        if ref.startswith(version_prefix):
            number = ref[len(version_prefix) :]
            if _is_number(number):
                versions[int(number)] = Entry(0, ref[len(TAGS_PREFIX) :], obj)
        elif ref.startswith(event_prefix):
            target, _, seq = ref[len(event_prefix) :].partition("#")
            if target not in valid:
                valid[target] = not (_NOT_IN_NAMES & set(target)) and is_event_target(target)
            if valid[target] and _is_number(seq):
                targets.setdefault(target, []).append(Entry(int(seq), ref[len(TAGS_PREFIX) :], obj))
    for entries in targets.values():
        entries.sort(reverse=True)
    changes = sorted((e for t, es in targets.items() if t not in MODEL_TARGETS for e in es), reverse=True)
    return Listing(versions, targets, changes)


_NOT_IN_NAMES = frozenset("@#/")


def _is_number(text: str) -> bool:
    """`[1-9][0-9]{0,18}` up to 2**63 - 1, as tag names carry versions and seqs."""
    return 0 < len(text) <= 19 and text.isascii() and text.isdigit() and text[0] != "0" and int(text) <= MAX_NUMBER


class MovedTag(Exception):
    """A version tag that is not the tag object its claim names: left to the full read, where the claim wins."""


class Known(NamedTuple):
    """A model's tags as a snapshot already parsed them: a Judge given these reads nothing from git."""

    events: dict[str, Event]  # tag → its event (well-formed tags only: the others are the snapshot's problems)
    claims: dict[str, str]  # every claim ref → the tag object it names


class Deferred:
    """The expensive checks (signature, review evidence) a Judge was asked for and took as passed, for the caller
    to make for many models at once (read.listing): where one fails, the model is judged again in earnest."""

    def __init__(self) -> None:
        self.signed: list[Event] = []
        self.reviewed: list[tuple[Event, list[Event]]] = []  # (the event, what `review_findings` reads it with)


def listing_of(events: Iterable[Event]) -> Listing:
    """The listing `list_refs` gives, from events a snapshot parsed."""
    versions: dict[int, Entry] = {}
    targets: dict[str, list[Entry]] = {}
    for event in events:
        if event.seq is None:
            versions[event.version] = Entry(0, event.tag, event.object)
        else:
            targets.setdefault(event.target or "", []).append(Entry(event.seq, event.tag, event.object))
    for entries in targets.values():
        entries.sort(reverse=True)
    changes = sorted((e for t, es in targets.items() if t not in MODEL_TARGETS for e in es), reverse=True)
    return Listing(versions, targets, changes)


class Judge:
    """Reads and judges tags of one model on demand, each once; remembers why any was left out."""

    def __init__(
        self,
        ctx: Context,
        name: str,
        listing: Listing,
        known: Known | None = None,
        deferred: Deferred | None = None,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.listing = listing
        self.known = known
        self.deferred = deferred
        self.events: dict[str, Event | None] = {}  # tag → its event (None: not a well-formed event)
        self.reasons: dict[str, str] = {}  # tag → why it does not take effect
        self.malformed: dict[str, str] = {}  # tag → why it is no event
        self.claims: dict[str, str] = {}  # claim ref → tag object, for the refs looked up so far
        self._looked_up: set[str] = set()
        self._commits: dict[str, str] | None = None
        self._signed: set[str] = set()
        self._pre: dict[str, bool] = {}
        self._admitted: dict[str, bool] = {}
        if known is not None:
            self.claims = known.claims

    # --- reading ------------------------------------------------------------------------------

    def commit_of(self, entry: Entry) -> str:
        """The commit a tag points at (its peeled id): every tag of the model peeled in one call, when first asked."""
        if self.known is not None:
            event = self.known.events.get(entry.tag)
            return event.commit if event is not None else ""
        if self._commits is None:
            self._commits = {}
            for line in peeled_ids(self.ctx.git, tag_patterns(self.name)).splitlines():
                ref, obj, peeled = line.split(" ")
                self._commits[ref.removeprefix(TAGS_PREFIX)] = peeled or obj
        return self._commits.get(entry.tag, "")

    def look_up_claims(self, entries: Iterable[Entry]) -> None:
        """The claim refs of `entries`, each looked up by name (one call for all not looked up yet)."""
        if self.known is not None:
            return
        refs = [ref for e in entries if (ref := self._claim_ref(e)) not in self._looked_up]
        if refs:
            self._looked_up.update(refs)
            self.claims.update(resolve_refs(self.ctx.git, refs))

    def _claim_ref(self, entry: Entry) -> str:
        if entry.seq:
            return claim_ref(self.name, entry.seq)
        return version_claim_ref(self.name, int(entry.tag.rpartition("@v")[2]))

    def load(self, entries: Iterable[Entry]) -> None:
        """Read and parse the tags not read yet (one batched `for-each-ref`), and check their signatures."""
        wanted = [e for e in entries if e.tag not in self.events]
        if not wanted:
            return
        if self.known is not None:  # parsed already: nothing to batch but the signatures
            self.events.update((e.tag, self.known.events.get(e.tag)) for e in wanted)
            self._check_signatures(wanted)
            return
        self.look_up_claims(wanted)
        names = {e.tag for e in wanted}
        for record in read_tags(self.ctx.git, [TAGS_PREFIX + e.tag for e in wanted]):
            if record.tag not in names:
                continue
            try:
                self.events[record.tag] = event_from_tag(record)
            except MalformedEvent as exc:
                self.events[record.tag] = None
                tag, _, why = str(exc).partition(": ")
                self.malformed[record.tag] = f"ignoring {tag}: {why}"
        for entry in wanted:
            self.events.setdefault(entry.tag, None)  # gone since the listing: no event
        # The registrations these events need are read in the same breath (one more call, not one each).
        versions = self.listing.versions
        needed = {
            v
            for entry in wanted
            if entry.seq and (event := self.events[entry.tag]) is not None
            for v in (event.version, *event.archived)
        }
        self.load([versions[v] for v in sorted(needed) if v in versions])
        self._check_signatures([e for e in wanted if self.events[e.tag] is not None])

    def _check_signatures(self, entries: list[Entry]) -> None:
        """Signatures of the tags whose claim holds: the only ones `rejections` checks."""
        if not self.ctx.config.require_signed or self.deferred is not None:
            return
        todo = [
            event
            for entry in entries
            if entry.tag not in self._signed and (event := self.events[entry.tag]) is not None
            if claim_problem(event, self.claims) is None
        ]
        self._signed.update(e.tag for e in todo)
        tags = {e.tag for e in todo}
        from modelreg.read.sigverify import signature_findings  # ~1 ms of start-up a registry without signing skips

        for finding in signature_findings(self.ctx, {self.name: todo}) if todo else ():
            for tag in [finding.subject] if finding.subject in tags else sorted(tags):
                self.reasons.setdefault(tag, finding.message)

    def _unsigned(self, event: Event) -> bool:
        """Whether the signature of a claimed tag is refused (checked when it was read). A deferring judge checks
        none: it notes the tag, whose verdict it takes as good, for its caller to check."""
        if self.deferred is not None and self.ctx.config.require_signed and event.tag not in self._signed:
            self._signed.add(event.tag)
            self.deferred.signed.append(event)
        return event.tag in self.reasons

    def event(self, entry: Entry) -> Event | None:
        self.load([entry])
        return self.events[entry.tag]

    # --- judging ------------------------------------------------------------------------------

    def registration(self, version: int) -> Event | None:
        """The registration of `version` when it takes effect: its claim holds and it is signed if need be."""
        entry = self.listing.versions.get(version)
        if entry is None or not self.claimed(entry):
            return None
        event = self.event(entry)
        if event is None or event.action != "register" or self._unsigned(event):
            return None
        return event

    def claimed_versions(self) -> int:
        """How many version tags their claim refs vouch for (checked from names and ids alone), less those whose
        signature was checked and refused."""
        return sum(self.claimed(e) and e.tag not in self.reasons for e in self.listing.versions.values())

    def claimed(self, entry: Entry) -> bool:
        """The claim check from names and ids alone (the first check `rejections` makes)."""
        if entry.tag in self.reasons:
            return False
        parsed = parse_tag_name(entry.tag)
        assert parsed is not None
        stub = Event(self.name, "register", parsed.version or 0, entry.tag, seq=parsed.seq, object=entry.object)
        self.look_up_claims([entry])
        problem = claim_problem(stub, self.claims)
        if problem is not None and parsed.seq is None and self.claims.get(self._claim_ref(entry)) is not None:
            raise MovedTag(entry.tag)  # its claim names the version (read.claimwins): the full read applies that
        if problem is not None:
            self.reasons[entry.tag] = problem
            return False
        return True

    def pending(self, entry: Entry) -> Event | None:
        """The event when it passes every check but review evidence (`pending` in `rejections`)."""
        known = self._pre.get(entry.tag)
        if known is False:
            return None
        if known is None:
            self._pre[entry.tag] = self._judge_pending(entry)
        return self.events[entry.tag] if self._pre[entry.tag] else None

    def _judge_pending(self, entry: Entry) -> bool:
        if not self.claimed(entry):
            return False
        event = self.event(entry)
        if event is None or self._unsigned(event):
            return False
        if event.version == NO_VERSION and event.kind == "model":
            return True  # written before the model's first version: no registration to check (policy.rejections)
        registered = {v: self.registration(v) for v in (event.version, *event.archived)}
        if any(r is None for r in registered.values()):
            self.reasons[event.tag] = (
                f"{event.tag} concerns a version whose version tag is missing or does not take effect"
            )
            return False
        own = registered[event.version]
        if own is not None and own.commit != event.commit:
            self.reasons[event.tag] = f"{event.tag} points at another commit than its version's tag"
            return False
        return True

    def admitted(self, entry: Entry) -> Event | None:
        """The event when it takes effect under the policy of record."""
        event = self.pending(entry)
        if event is None:
            return None
        if entry.tag not in self._admitted:
            self._admitted[entry.tag] = self._reviewed(entry, event)
        return event if self._admitted[entry.tag] else None

    def _reviewed(self, entry: Entry, event: Event) -> bool:
        config = self.ctx.config
        if event.kind != "stage" or event.target not in config.review_required or event.action == "unassign":
            return True
        context = [event]
        if event.request is None and event.action == "rollback":
            # held_before looks for an earlier holder among the pending events of that stage and version.
            earlier = [
                e
                for e in self.listing.targets.get(event.target or "", [])
                if e.seq < entry.seq and self.commit_of(e) == event.commit
            ]
            self.load(earlier)
            context += [p for e in earlier if (p := self.pending(e)) is not None]
        if self.deferred is not None:
            self.deferred.reviewed.append((event, context))
            return True
        from modelreg.read.evidence import review_findings  # ~0.5 ms of start-up a registry without review skips

        for finding in review_findings(self.ctx, {self.name: context}, only=event.tag):
            self.reasons.setdefault(finding.subject, finding.message)
        return event.tag not in self.reasons

    def warnings(self) -> tuple[str, ...]:
        """One line per tag read and left out, worded as `policy.admit` and `reader._malformed` word it.

        A tag refused on its claim alone was never read: whether it is an event at all is not known.
        """
        read = {tag: reason for tag, reason in self.reasons.items() if self.events.get(tag) is not None}
        unclaimed = sorted(tag for tag, reason in read.items() if reason.startswith(f"{tag} has no claim ref "))
        summary: tuple[str, ...] = ()
        if len(unclaimed) > 1:  # a clone without the claim refs: one line saying what to fetch, as admit says it
            summary = (missing_claims(self.ctx, self.name, unclaimed),)
            read = {tag: reason for tag, reason in read.items() if tag not in set(unclaimed)}
        left_out = tuple(
            f"ignoring {tag}: {reason.removeprefix(f'{tag}: ').removeprefix(f'{tag} ')}"
            for tag, reason in sorted(read.items())
        )
        return summary + left_out + tuple(self.malformed[t] for t in sorted(self.malformed))
