"""What the refs say: every modelreg tag and claim ref of one model (or all), parsed once.

Tag objects are immutable and named by their content, so a ref's object id fixes every byte
its parse read. The parse of each ref is cached under that id (a private marshal file, see
cachefile), and a read costs one `for-each-ref` of ref names and ids: refs whose id is cached
are not opened; new ones are read and parsed in one more `for-each-ref` naming exactly them. A
ref that moved or vanished since the cache was written (never modelreg's doing) makes the whole
set be read afresh. The cache holds parses keyed by object ids, never answers: state is replayed
from them on every call.

The cache key and the parse always come from one git read: a ref is stored with the id that the
call which parsed it reported, so a ref moved between two calls is never paired with the parse
of its old object.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from modelreg import cachefile
from modelreg.errors import MalformedEvent
from modelreg.events import event_from_tag
from modelreg.models import Event
from modelreg.refs import CLAIMS_PREFIX, TAGS_PREFIX, parse_tag_name, tag_patterns

if TYPE_CHECKING:
    from modelreg.gitrepo import GitRepo

FORMAT = 6  # 6: per-ref entries keyed by object id; their sum in a file of its own
_MAX_NEW = 2000  # past this many new refs, one read of the whole set is cheaper than naming each
_GLOB_CHARS = frozenset("*?[\\")

# One ref's parse: (object id, model, version, seq, event fields, problem). A claim ref has its
# model and seq; a version tag its model and version; an event tag its model and seq.
Entry = tuple[str, str | None, int | None, int | None, tuple[object, ...] | None, str | None]


class Snapshot(NamedTuple):
    """Everything one read of the refs told us about one model (or all)."""

    events: dict[str, list[Event]]
    taken_seqs: dict[str, set[int]]  # from claim refs and event tag names, well-formed or not
    taken_versions: dict[str, set[int]]  # from version tag names, well-formed or not
    problems: tuple[str, ...]  # tags with a modelreg name that are not well-formed events
    claims: dict[str, str]  # claim ref → the tag object it points at


def patterns_for(name: str | None) -> list[str]:
    return [*tag_patterns(name), f"{CLAIMS_PREFIX}{name}/" if name else CLAIMS_PREFIX]


def take(git: GitRepo, name: str | None, cache_dir: str) -> Snapshot:
    """The parsed refs of model `name` (every model when None)."""
    patterns = patterns_for(name)
    base = os.path.join(cache_dir, "state", cachefile.file_name(str(git.root), *patterns))
    ident = (FORMAT, Event._fields, str(git.root), patterns)
    listing = git.ref_ids(patterns)
    quick = cachefile.load(f"{base}.sum")
    if isinstance(quick, tuple) and len(quick) == 3 and quick[0] == ident and quick[1] == listing:
        try:
            return _snapshot_of(quick[2])
        except (TypeError, ValueError):  # a damaged entry: read afresh below
            pass
    cached = cachefile.load(base)
    cached = cached[1] if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == ident else {}
    ids = dict(line.split(" ", 1) for line in listing.splitlines() if line)
    new = [ref for ref, obj in ids.items() if cached.get(ref, ("",))[0] != obj]
    gone = len(cached) + len(new) != len(ids) or any(ref not in ids for ref in cached)
    if not cached or gone or len(new) > _MAX_NEW or any(_GLOB_CHARS & set(ref) for ref in new):
        entries = _read(git, patterns)
    else:
        entries = {**cached, **_read(git, new)} if new else cached
    entries = dict(sorted(entries.items()))
    derived = _derive(entries)
    cachefile.dump(base, (ident, entries))
    # The key of the summary is the listing of exactly the refs it was made from, as git lists them.
    cachefile.dump(f"{base}.sum", (ident, "".join(f"{ref} {e[0]}\n" for ref, e in entries.items()), derived))
    return _snapshot_of(derived)


def _read(git: GitRepo, patterns: list[str]) -> dict[str, Entry]:
    """Parse the refs matching `patterns` (or named exactly), each under the id this read saw."""
    tags, others = git.read_refs(patterns)
    entries: dict[str, Entry] = {}
    for record in tags:
        parsed = parse_tag_name(record.tag)
        ref = TAGS_PREFIX + record.tag
        if parsed is None:
            entries[ref] = (record.object, None, None, None, None, None)
            continue
        row: tuple[object, ...] | None = None
        problem = None
        try:
            event = event_from_tag(record)
            row = tuple(event) if event is not None else None
        except MalformedEvent as exc:
            problem = str(exc)
        entries[ref] = (record.object, parsed.name, parsed.version, parsed.seq, row, problem)
    for ref, obj in others.items():
        model, _, seq = ref.removeprefix(CLAIMS_PREFIX).rpartition("/")
        entries[ref] = (obj, model, None, int(seq) if seq.isdigit() else None, None, None)
    return entries


# What a snapshot is made of, in plain data: events as field tuples by model, taken seqs and
# versions by model, problems, claims.
Derived = tuple[
    dict[str, list[tuple[object, ...]]], dict[str, set[int]], dict[str, set[int]], tuple[str, ...], dict[str, str]
]


def _derive(entries: dict[str, Entry]) -> Derived:
    rows: dict[str, list[tuple[object, ...]]] = {}
    taken: dict[str, set[int]] = {}
    versions: dict[str, set[int]] = {}
    problems: list[str] = []
    claims: dict[str, str] = {}
    for ref, (obj, model, version, seq, row, problem) in entries.items():
        if model is None:
            continue
        if ref.startswith(CLAIMS_PREFIX):
            claims[ref] = obj
        if seq is not None:
            taken.setdefault(model, set()).add(seq)
        elif version is not None:
            versions.setdefault(model, set()).add(version)
        if problem is not None:
            problems.append(problem)
        elif row is not None:
            rows.setdefault(model, []).append(row)
    return rows, taken, versions, tuple(problems), claims


def _snapshot_of(derived: Derived) -> Snapshot:
    rows, taken, versions, problems, claims = derived
    make = Event._make
    return Snapshot({model: list(map(make, r)) for model, r in rows.items()}, taken, versions, problems, claims)
