"""Many versions' manifests at once, as `Reader.read_manifest` reads one: what search needs.

Each manifest is the one its version tag's commit holds, with `description` and `tags` from the
current copy (the work tree's, or the one at `branch_rev`). The blob ids come from git in three
calls at most (`cat-file --batch-check` for the tagged copies not seen before, `ls-files` or
`ls-tree` for the current ones) and the parses are cached by blob id: a blob's bytes never
change, so its parse never does. Work-tree files that differ from the index are read and parsed
afresh every time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from modelreg import cachefile
from modelreg.errors import ModelregError
from modelreg.formats import manifest as manifestmod
from modelreg.git import GitRepo
from modelreg.models import Artifact, ArtifactFile, Event, Lineage, Manifest, Training

FORMAT = 1
Parsed = tuple[Any, ...] | str | None  # a manifest as plain data, why it does not parse, or None: no such file


class Batch:
    """The manifests of `registrations`, keyed by (name, version), as plain data (`manifest` makes one whole).

    Nothing is read until asked: `prefetch(keys)` finds and reads the manifests of those versions in
    two git calls (a version asked for without it is read alone); each is parsed when first asked for
    (`plain`), so a search that stops early reads and parses only what it looked at. `problems` says
    why one could not be read; `keep` stores the parses for the next search.
    """

    def __init__(
        self, git: GitRepo, registrations: list[Event], branch_rev: str | None, cache_dir: str, scope: str = "*"
    ) -> None:
        """`scope`: the model searched (its name), or "*" for all; it names the cache file (one per scope keeps what
        it last used) and bounds the current copies read."""
        self.problems: dict[tuple[str, int], str] = {}
        self._plain: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._git = git
        self._path = os.path.join(cache_dir, "manifests", cachefile.file_name(str(git.root), scope))
        self._ident = (FORMAT, str(git.root))
        cached = cachefile.load(self._path)
        self._blob_of: dict[str, str] = {}
        self._parsed: dict[str, Parsed] = {}
        if isinstance(cached, tuple) and len(cached) == 3 and cached[0] == self._ident:
            self._blob_of, self._parsed = cached[1], cached[2]
        self._changed = False
        self._events = {(e.name, e.version): e for e in registrations}
        self._fetched: set[tuple[str, int]] = set()
        self._texts: dict[str, str | None] = {}
        # The current copies (their description and tags) of these manifests only: one model's, when one is searched.
        directory = manifestmod.model_dir(scope) if scope != "*" else manifestmod.MODELS_DIR
        self._current = git.file_ids(branch_rev, directory)

    def prefetch(self, keys: Iterable[tuple[str, int]]) -> None:
        """Find and read the manifests of these versions (the tagged and the current copy of each) at once."""
        keys = [key for key in keys if key not in self._fetched]
        if not keys:
            return
        self._fetched.update(keys)
        specs = [_spec(self._events[key]) for key in keys]
        unknown = [spec for spec in specs if spec not in self._blob_of]
        if unknown:
            self._changed = True
            for spec, oid in zip(unknown, self._git.object_ids(unknown), strict=True):
                if oid is not None:
                    self._blob_of[spec] = oid
        tagged = {self._blob_of.get(spec) for spec in specs}
        current = {self._current.get(manifestmod.manifest_path(*key)) for key in keys}
        wanted = {oid for oid in tagged | current if oid is not None}
        missing = sorted(oid for oid in wanted if oid not in self._parsed and oid not in self._texts)
        self._texts.update(zip(missing, self._git.read_blobs(missing), strict=True))

    def plain(self, key: tuple[str, int]) -> tuple[Any, ...] | None:
        """The manifest of version `key` as plain data; None when it cannot be read (see `problems`)."""
        if key not in self._plain and key not in self.problems:
            self.prefetch([key])
            event = self._events[key]
            self._add(event, self._blob_of.get(_spec(event)))
        return self._plain.get(key)

    def keep(self) -> None:
        """Store the parses (by blob id) for the next search, when any is new."""
        if self._changed:
            # these versions' tagged and current copies: what this search read, and what an earlier one parsed
            keep = {self._blob_of.get(_spec(e)) for e in self._events.values()}
            keep |= {self._current.get(manifestmod.manifest_path(*key)) for key in self._events}
            parsed = {oid: p for oid, p in self._parsed.items() if oid in keep}
            cachefile.dump(self._path, (self._ident, self._blob_of, parsed))

    def _parse(self, oid: str) -> Parsed:
        if oid not in self._parsed:
            self._parsed[oid] = _parse(self._texts.get(oid), oid)
            self._changed = True
        return self._parsed[oid]

    def _add(self, event: Event, blob: str | None) -> None:
        key = (event.name, event.version)
        rel = manifestmod.manifest_path(event.name, event.version)
        tagged = self._parse(blob) if blob else None
        if not isinstance(tagged, tuple):
            self.problems[key] = f"{rel} at {event.tag}: {tagged or 'missing from its commit'}"
            return
        if tagged[:2] != key:
            self.problems[key] = f"{rel} at {event.tag} is the manifest of {tagged[0]} v{tagged[1]}"
            return
        current = self._current
        if rel in current and current[rel] != blob:
            oid = current[rel]
            now = self._parse(oid) if oid is not None else _parse(self._git.read_files([(None, rel)])[0], rel)
            if isinstance(now, tuple):
                if now[:2] == key:  # only description and tags may change after registration
                    tagged = (*tagged[:5], now[5], *tagged[6:10], now[10], *tagged[11:])
                else:
                    self.problems[key] = f"{rel} is the manifest of {now[0]} v{now[1]}"
                    return
            elif now is not None:
                self.problems[key] = f"{rel}: {now}"
                return
        self._plain[key] = tagged

    def manifest(self, key: tuple[str, int]) -> Manifest:
        plain = self.plain(key)
        assert plain is not None
        return _manifest(plain)


def _spec(event: Event) -> str:
    """Where git finds the manifest `event` registered: its commit and path."""
    return f"{event.commit}:{manifestmod.manifest_path(event.name, event.version)}"


def _parse(text: str | None, source: str) -> Parsed | None:
    if text is None:
        return None
    try:
        return _plain(manifestmod.from_yaml(text, source, keep=False))  # the batch keeps its parses itself
    except ModelregError as exc:
        return str(exc)


def _plain(m: Manifest) -> tuple[Any, ...]:
    """A manifest as marshal-able data (validated once, when parsed)."""
    art = m.artifact
    return (
        m.name,
        m.version,
        m.created_at,
        m.created_by,
        (art.store, art.digest, art.size, tuple(tuple(f) for f in art.files)),
        m.description,
        dict(m.params),
        dict(m.metrics),
        tuple(m.lineage),
        tuple(m.training),
        dict(m.tags),
        dict(m.extra),
    )


def _manifest(plain: tuple[Any, ...]) -> Manifest:
    name, version, created_at, created_by, art, description, params, metrics, lineage, training, tags, extra = plain
    store, digest, size, files = art
    return Manifest(
        name,
        version,
        created_at,
        created_by,
        Artifact(store, digest, size, tuple(ArtifactFile(*f) for f in files)),
        description,
        params,
        metrics,
        Lineage(*lineage),
        Training(*training),
        tags,
        extra,
    )
