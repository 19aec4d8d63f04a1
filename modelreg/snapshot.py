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

FORMAT = 4  # 4: per-ref entries keyed by object id
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
    path = os.path.join(cache_dir, "state", cachefile.file_name(str(git.root), *patterns))
    cached = _load(path, str(git.root), patterns)
    ids = dict(line.split(" ", 1) for line in git.ref_ids(patterns).splitlines() if line)
    new = [ref for ref, obj in ids.items() if cached.get(ref, ("",))[0] != obj]
    if not new and len(cached) == len(ids):
        try:
            return _derive(cached)
        except (TypeError, ValueError):  # a damaged entry: read afresh
            cached = {}
    gone = len(cached) + len(new) != len(ids) or any(ref not in ids for ref in cached)
    if not cached or gone or len(new) > _MAX_NEW or any(_GLOB_CHARS & set(ref) for ref in new):
        entries = _read(git, patterns)
    else:
        entries = {**cached, **_read(git, new)}
    _save(path, str(git.root), patterns, entries)
    return _derive(entries)


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


def _derive(entries: dict[str, Entry]) -> Snapshot:
    events: dict[str, list[Event]] = {}
    taken: dict[str, set[int]] = {}
    versions: dict[str, set[int]] = {}
    problems: list[str] = []
    claims: dict[str, str] = {}
    for ref in sorted(entries):
        obj, model, version, seq, row, problem = entries[ref]
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
            events.setdefault(model, []).append(Event(*row))  # type: ignore[arg-type]
    return Snapshot(events, taken, versions, tuple(problems), claims)


def _load(path: str, repo: str, patterns: list[str]) -> dict[str, Entry]:
    data = cachefile.load(path)
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("fields") != Event._fields
        or data.get("repo") != repo
        or data.get("patterns") != patterns
        or not isinstance(data.get("refs"), dict)
    ):
        return {}
    refs: dict[str, Entry] = data["refs"]
    return refs


def _save(path: str, repo: str, patterns: list[str], entries: dict[str, Entry]) -> None:
    data = {"format": FORMAT, "fields": Event._fields, "repo": repo, "patterns": patterns, "refs": entries}
    cachefile.dump(path, data)
