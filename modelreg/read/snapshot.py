"""What the refs say: every modelreg tag and claim ref of one model (or all), parsed once.

Tag objects are immutable and named by their content, so the list of ref names and object ids
fixes every byte a parse of them read. The parse is cached (a private marshal file, see
cachefile) together with exactly that list, as `git for-each-ref` prints it. A read costs one
`for-each-ref` of names and ids: when the list is the cached one, the cached parse is the parse.
When refs were only added (every write modelreg makes), just the new ones are read and parsed,
in one more `for-each-ref` naming exactly them, and added to the parse. A ref that moved or
vanished (never modelreg's doing) makes the whole set be read afresh.

The cache holds parses keyed by what they were parsed from, never answers: state is replayed
from them on every call. Key and parse always come from the same git read: a ref is recorded
with the id that the call which parsed it reported, so a ref moved between two calls is never
paired with the parse of its old object.
"""

from __future__ import annotations

import os
from bisect import insort
from operator import itemgetter
from typing import NamedTuple

from modelreg import cachefile
from modelreg.core.events import event_from_tag
from modelreg.core.refs import (
    CLAIMS_PREFIX,
    TAGS_PREFIX,
    VERSION_CLAIMS_PREFIX,
    claim_prefixes,
    is_claim_ref,
    parse_tag_name,
    tag_patterns,
)
from modelreg.errors import MalformedEvent
from modelreg.git import GitRepo
from modelreg.models import Event, TagRecord
from modelreg.read import seeded
from modelreg.read.claimwins import Moved, extension_safe, prefer_claims

FORMAT = 10  # 10: a tag moved after its claim is read through the claim (claimwins)
_MAX_NEW = 2000  # past this many new refs, one read of the whole set is cheaper than naming each
_GLOB_CHARS = frozenset("*?[\\")
_SMALL_KEPT = 128 << 10  # bytes of a kept snapshot: about 250 tags (one is about 500 bytes)
_BY_TAG = itemgetter(Event._fields.index("tag"))

# The parse in plain data: events as field tuples by model (sorted by tag, as a full read lists
# them), taken seqs and versions by model, problems (sorted by tag), claims.
Parse = tuple[dict[str, list[tuple[object, ...]]], dict[str, set[int]], dict[str, set[int]], list[str], dict[str, str]]


class Snapshot(NamedTuple):
    """Everything one read of the refs told us about one model (or all)."""

    events: dict[str, list[Event]]
    taken_seqs: dict[str, set[int]]  # from claim refs and event tag names, well-formed or not
    taken_versions: dict[str, set[int]]  # from version tag names and version claim refs, well-formed or not
    problems: tuple[str, ...]  # tags with a modelreg name that are not well-formed events
    claims: dict[str, str]  # claim ref (of an event or a version) → the tag object it points at


def patterns_for(name: str | None) -> list[str]:
    return [*tag_patterns(name), *claim_prefixes(name)]


def _kept_at(git: GitRepo, patterns: list[str], cache_dir: str) -> str:
    return os.path.join(cache_dir, "state", cachefile.file_name(str(git.root), *patterns))


def kept_small(git: GitRepo, name: str, cache_dir: str) -> bool:
    """Whether the snapshot kept of model `name` is small (a few hundred tags when last read): one `stat`."""
    try:
        return os.stat(_kept_at(git, patterns_for(name), cache_dir)).st_size <= _SMALL_KEPT
    except OSError:
        return False


def take(git: GitRepo, name: str | None, cache_dir: str) -> Snapshot:
    """The parsed refs of model `name` (every model when None)."""
    patterns = patterns_for(name)
    path = _kept_at(git, patterns, cache_dir)
    ident = (FORMAT, Event._fields, str(git.root), patterns)
    cached = cachefile.load(path)
    if isinstance(cached, tuple) and len(cached) == 3 and cached[0] == ident:  # else one read, no listing first
        listing = git.listed_ids.pop(tuple(patterns), None)  # listed with the branches: see open_path
        listing = git.ref_ids(patterns) if listing is None else listing
        try:
            if cached[1] == listing:
                return _snapshot_of(cached[2])
            extended = _extend(git, cached[1], listing, cached[2])
        except (TypeError, ValueError, KeyError, IndexError):  # a damaged cache: read afresh
            extended = None
        if extended is not None:
            cachefile.dump(path, (ident, *extended))
            return _snapshot_of(extended[1])
    parse: Parse = ({}, {}, {}, [], {})
    seen = _add(parse, _read(git, patterns))
    cachefile.dump(path, (ident, seen, parse))
    return _snapshot_of(parse)


def seed(git: GitRepo, name: str, tags: list[TagRecord], claims: dict[str, str], cache_dir: str) -> None:
    """Add refs this process has just created, `tags` (as `for-each-ref` would describe them: read.seeded) and
    `claims` (claim ref → tag object), to the kept parse of model `name`, so its next read parses them without
    asking git. The kept parse stays the parse of exactly the refs it lists: whatever else changed since is
    found by the next read as before (new refs read, a moved or vanished one a whole read)."""
    patterns = patterns_for(name)
    path = _kept_at(git, patterns, cache_dir)
    cached = cachefile.load(path)
    if not (
        isinstance(cached, tuple) and len(cached) == 3 and cached[0] == (FORMAT, Event._fields, str(git.root), patterns)
    ):
        return
    try:
        seen, parse = cached[1], cached[2]
        refs = {TAGS_PREFIX + record.tag for record in tags} | claims.keys()
        if any(line.split(" ", 1)[0] in refs for line in seen.splitlines()):
            return
        added = _add(parse, _rows(git, tags, claims, parse[4]))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):  # a damaged cache: the next read redoes it
        return
    cachefile.dump(path, (cached[0], "".join(sorted([*seen.splitlines(True), *added.splitlines(True)])), parse))


def _extend(git: GitRepo, seen: str, listing: str, parse: Parse) -> tuple[str, Parse] | None:
    """`parse` plus the refs `listing` has beyond `seen`; None when a ref moved or vanished."""
    before = set(seen.splitlines())
    now = listing.splitlines()
    new = [line for line in now if line not in before]
    if len(before) + len(new) != len(now) or len(new) > _MAX_NEW or not extension_safe(before, now, new):
        return None
    refs = [line.split(" ", 1)[0] for line in new]
    if any(_GLOB_CHARS & set(ref) for ref in refs):
        return None
    added = _add(parse, _read(git, refs, parse[4]))
    if sorted(added.splitlines()) == sorted(new):
        return listing, parse
    # A new ref moved or went between the two calls: record exactly what was parsed.
    return "".join(sorted(f"{line}\n" for line in (*before, *added.splitlines()))), parse


def _read(
    git: GitRepo, patterns: list[str], known: dict[str, str] | None = None
) -> list[tuple[str, str, str | None, int | None, int | None, object]]:
    """(ref, object id, model, version, seq, event fields or problem) of each ref matching `patterns`.

    `known`: the claim refs read before (a tag moved after its claim is read through it, claimwins).
    """
    tags, others = git.read_refs(patterns)
    seeded.observe(tags)
    return _rows(git, tags, others, known)


def _rows(
    git: GitRepo, tags: list[TagRecord], others: dict[str, str], known: dict[str, str] | None
) -> list[tuple[str, str, str | None, int | None, int | None, object]]:
    found: list[tuple[str, str, str | None, int | None, int | None, object]] = []
    for record in tags:
        parsed = parse_tag_name(record.tag)
        ref = TAGS_PREFIX + record.tag
        if parsed is None:
            found.append((ref, record.object, None, None, None, None))
            continue
        try:
            event = event_from_tag(record, parsed)
            parse: object = tuple(event) if event is not None else None
        except MalformedEvent as exc:
            parse = str(exc)
        found.append((ref, record.object, parsed.name, parsed.version, parsed.seq, parse))
    for ref, obj in others.items():
        if ref.startswith(VERSION_CLAIMS_PREFIX):
            model, _, version = ref.removeprefix(VERSION_CLAIMS_PREFIX).rpartition("/")
            found.append((ref, obj, model, int(version) if version.isdigit() else None, None, None))
            continue
        model, _, seq = ref.removeprefix(CLAIMS_PREFIX).rpartition("/")
        found.append((ref, obj, model, None, int(seq) if seq.isdigit() else None, None))
    return prefer_claims(git, found, known)


def _add(parse: Parse, found: list[tuple[str, str, str | None, int | None, int | None, object]]) -> str:
    """Add refs to `parse` in place; returns their listing, as `for-each-ref` prints it."""
    rows, taken, versions, problems, claims = parse
    for ref, obj, model, version, seq, parsed in found:
        if model is None:
            continue
        if is_claim_ref(ref):
            claims[ref] = obj
        if seq is not None:
            taken.setdefault(model, set()).add(seq)
        elif version is not None:
            versions.setdefault(model, set()).add(version)
        if isinstance(parsed, Moved):  # reported, and read through its claim (claimwins)
            insort(problems, parsed.problem, key=lambda p: p.split(":", 1)[0])
            parsed = parsed.event
        if isinstance(parsed, str):
            insort(problems, parsed, key=lambda p: p.split(":", 1)[0])
        elif isinstance(parsed, tuple):
            insort(rows.setdefault(model, []), parsed, key=_BY_TAG)
    return "".join(f"{ref} {obj}\n" for ref, obj, *_ in sorted(found))


def _snapshot_of(parse: Parse) -> Snapshot:
    rows, taken, versions, problems, claims = parse
    make = Event._make
    return Snapshot({model: list(map(make, r)) for model, r in rows.items()}, taken, versions, tuple(problems), claims)
