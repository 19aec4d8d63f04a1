"""Reading a registry: state from the refs, versions with their manifests, artifacts from the store.

Never writes to the repository. The read path stays lean: no YAML, no storage and no hashing
code is imported unless the answer needs it (see yamlio, snapshot).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from modelreg.core.events import history_order, replay
from modelreg.core.refs import ModelRef, check_name, parse_ref, parse_tag_name, version_tag
from modelreg.errors import IntegrityError, InvalidInputError, ModelregError, NotFoundError
from modelreg.formats import manifest as manifestmod
from modelreg.formats.config import Config
from modelreg.git import GitRepo
from modelreg.models import Event, Manifest, ModelState, ModelSummary, ModelVersion, ValueChange, VersionDiff
from modelreg.paths import cache_dir
from modelreg.read import lean, listing, snapshot
from modelreg.read.admission import list_refs
from modelreg.read.context import Context
from modelreg.read.policy import admit
from modelreg.read.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.core.asof import Moment  # time travel (--at, --since, --until) loads where it is asked for
    from modelreg.core.progress import Progress
    from modelreg.read.when import When
    from modelreg.store.blobs import BlobStore  # loaded with the store (see `store`)


class ModelView(NamedTuple):
    """One model as the policy of record admits it: its state, its events, and what was left out."""

    state: ModelState  # the replay of `events`
    events: list[Event]  # the events that take effect (see policy)
    snap: snapshot.Snapshot  # everything the refs said, admitted or not
    rejected: tuple[str, ...] = ()  # one warning per event the policy leaves out

    def history(self) -> list[Event]:
        """Registrations and stage/alias events in causal order (seq), oldest first."""
        return history_order(self.events)


class Reader:
    """The read side of a registry in `git` (a work tree, or a read-only view of a URL: `source`)."""

    def __init__(
        self, git: GitRepo, config: Config, source: str | None = None, policy_commit: str | None = None
    ) -> None:
        self.git = git
        self.config = config
        self.source = source
        self.context = Context(git, config, source, policy_commit)

    @property
    def root(self) -> Path:
        return self.git.root

    def snapshot(self, name: str | None) -> snapshot.Snapshot:
        """The model's (or every model's) parsed tags and claim refs."""
        return snapshot.take(self.git, name, cache_dir())

    def moment(self, when: When, option: str = "--at") -> Moment:
        """The point in the event log `when` names (see modelreg.read.when)."""
        from modelreg.read import when as named  # time travel: ~0.6 ms of start-up other reads skip (measured)

        return named.moment(self.git, when, option)

    def model(self, name: str, at: When | None = None, *, absent_ok: bool = False) -> ModelView:
        """The model as the policy admits it; with `at`, as it was at that moment (see modelreg.core.asof).

        With `absent_ok`, a model that does not exist (yet, or any more) is an empty view, not an error.
        """
        check_name(name)
        snap = self.snapshot(name)
        events, rejected = admit(self.context, name, snap.events.get(name, []), snap.claims)
        rejected += malformed(snap.problems, name)
        moment = self.moment(at) if at is not None else None
        registered = any(e.action == "register" for e in events)
        if moment is not None:
            events = _until(events, moment)
        state = replay(name, events)
        if not state.exists and not absent_ok:
            if moment is not None and registered:
                raise self.not_found(f"{name} had no version yet at {moment}")
            if deleted := [e.tag for e in events if e.action == "delete" and e.kind == "model"]:
                raise self.not_found(f"{name} was deleted ({deleted[-1]})")
            if not rejected:
                raise self.not_found(f"no model named {name!r} is registered{self._closest(name)}")
            error = self.not_found(f"no version of {name!r} takes effect: the policy leaves out every one")
            error.warnings = rejected
            raise error
        return ModelView(state, events, snap, rejected)

    def _closest(self, name: str) -> str:
        """`: did you mean 'fraud-detector'?` when a registered model's name is close to `name`."""
        import difflib  # ~1 ms that only a misspelt name pays

        names = [m.name for m in self.models()]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        return f": did you mean {close[0]!r}?" if close else ""

    def not_found(self, message: str) -> NotFoundError:
        """A not-found error, marked as possibly stale when this clone has a remote it may lag behind."""
        return NotFoundError(message, maybe_stale=not self.source and bool(self.git.remote_names()))

    def state(self, name: str) -> ModelState:
        return self.model(name).state

    def views(self, name: str | None = None, at: When | None = None) -> list[ModelView]:
        """Model `name` (an error if it does not exist), or every model that exists (has a version, or was
        created before its first), by name.

        With `at`: as they were at that moment; a model with no version yet then is left out.
        """
        moment = self.moment(at) if at is not None else None
        if name is not None:
            return [self.model(name, moment)]
        snap = self.snapshot(None)
        views = [self._view(snap, model, moment) for model in sorted(snap.events)]
        return [view for view in views if view.state.exists]

    def _view(self, snap: Snapshot, model: str, moment: Moment | None = None) -> ModelView:
        """Model `model` of a snapshot of every model, as the policy admits it (and as it was at `moment`)."""
        events, rejected = admit(self.context, model, snap.events[model], snap.claims)
        rejected += malformed(snap.problems, model)
        if moment is not None:
            events = _until(events, moment)
        return ModelView(replay(model, events), events, snap, rejected)

    def models(self, at: When | None = None) -> list[ModelSummary]:
        """A row for every model that exists; under a policy with signatures or review, each row checks only the
        events that decide it (read.listing)."""
        if at is None and listing.worth_it(self.context):
            snap = self.snapshot(None)
            return listing.summaries(
                self.context, snap, lambda model: malformed(snap.problems, model), lambda model: self._row(snap, model)
            )
        return [listing.row(view.state, view.rejected, self.config.stages) for view in self.views(at=at)]

    def _row(self, snap: Snapshot, model: str) -> ModelSummary | None:
        """The row of `list` for `model` from the full replay (None: the model does not exist)."""
        view = self._view(snap, model)
        return listing.row(view.state, view.rejected, self.config.stages) if view.state.exists else None

    def history(self, name: str, since: When | None = None, until: When | None = None) -> list[Event]:
        """Registrations and events in causal order; `since`/`until` keep those at or after / at or before."""
        return self.history_of(self.history_view(name), since, until)

    def history_view(self, name: str) -> ModelView:
        """The model read for its history: a deleted model's too (its tombstone last); one never registered is
        an error, in the words a missing model gets."""
        view = self.model(name, absent_ok=True)
        return view if view.events else self.model(name)

    def history_of(self, view: ModelView, since: When | None = None, until: When | None = None) -> list[Event]:
        """`history` of a model already read (`history_view`), whose warnings the caller shows."""
        if since is None and until is None:
            return view.history()
        first = self.moment(since, "--since") if since is not None else None
        last = self.moment(until, "--until") if until is not None else None
        from modelreg.core import asof  # see moment

        return asof.between(view.events, first, last)

    def problems(self, name: str | None = None) -> tuple[str, ...]:
        return self.snapshot(name).problems

    def resolve(self, ref: str | ModelRef, at: When | None = None) -> ModelVersion:
        """The version `ref` names (with `at`: named then; its description and tags are today's)."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        view = self.deciding(parsed, at)
        with _telling(view.rejected):
            return self.version(view, self.select(view.state, parsed))

    def deciding(self, ref: ModelRef, at: When | None = None) -> ModelView:
        """What decides `ref`: the events that can (read.lean), else the model's full replay.

        A lean view holds one version, its registration and the event that made `ref` name it
        (a stage's assignment, an alias's newest event): what `resolve` and `sync` need. A model
        small when last read is read in full at once: its kept snapshot makes that one listing,
        where the lean read would list, then open tags and claims.
        """
        decided = None
        if at is None and not snapshot.kept_small(self.git, check_name(ref.name), cache_dir()):
            listing = list_refs(self.context, ref.name)
            decided = lean.decide(self.context, ref, True, listing) if lean.worth_it(listing) else None
        if decided is None:
            return self.model(ref.name, at)
        events = [decided.registration]
        if decided.deciding.tag != decided.registration.tag:
            events.append(decided.deciding)
        return ModelView(decided.state, events, decided.snap, decided.warnings)

    def select(self, state: ModelState, ref: ModelRef) -> int:
        """The version `ref` names in `state`; of a retired model, only `NAME@N` names one."""
        if state.retired is not None and ref.version is None:
            raise NotFoundError(
                f"{ref} does not resolve: {ref.name} is retired ({state.retired}); "
                f"its stages, aliases and latest no longer resolve, {ref.name}@vN still does"
            )
        if ref.version is not None:
            if ref.version not in state.versions:
                latest = f"latest is v{state.latest}" if state.latest is not None else "it has no version yet"
                raise self.not_found(f"{ref.name} has no version {ref.version} ({latest})")
            return ref.version
        if ref.alias is not None:
            if ref.alias in self.config.stages:
                raise InvalidInputError(f"{ref.alias!r} is a stage, not an alias: write {ref.name}/{ref.alias}")
            if ref.alias not in state.aliases:
                known = ", ".join(sorted(state.aliases)) or "none"
                raise self.not_found(f"{ref.name} has no alias {ref.alias!r} (aliases: {known})")
            return state.aliases[ref.alias]
        if ref.stage is not None:
            self.config.check_stage(ref.stage)
            holder = state.stage_holder(ref.stage)
            if holder is None:
                raise self.not_found(f"no version of {ref.name} is in stage {ref.stage!r}")
            return holder
        if state.latest is None:
            raise self.not_found(f"{ref.name} has no version yet (it was created without one: {state.created})")
        return state.latest

    def version(self, view: ModelView, version: int) -> ModelVersion:
        registered = registration(view.events, version)
        return self._version(view, registered, self.read_manifest(view.state.name, version, registered.commit))

    def versions(self, view: ModelView) -> list[ModelVersion]:
        """Every version of the model, oldest first, as `version` reads each; the manifests in one batch."""
        registered = {e.version: e for e in view.events if e.action == "register"}
        wanted = [(v, registered[v].commit) for v in view.state.versions]
        manifests = self.read_manifests(view.state.name, wanted)
        return [self._version(view, registered[v], m) for (v, _), m in zip(wanted, manifests, strict=True)]

    def _version(self, view: ModelView, registered: Event, manifest: Manifest) -> ModelVersion:
        version = registered.version
        if registered.digest is not None and registered.digest != manifest.artifact.digest:
            raise IntegrityError(
                f"{registered.tag} records {registered.digest}, but its manifest names "
                f"{manifest.artifact.digest} (run `modelreg verify`)"
            )
        state = view.state
        warnings = view.rejected
        if not self.config.is_store_of_record(manifest.artifact.store):
            warnings += (
                f"{registered.tag}: its manifest names the store {manifest.artifact.store!r}; blobs are read only "
                f"from the store of record {self.config.store!r} (pull --store URL reads another you trust)",
            )
        stage, aliases = state.stages.get(version), state.aliases_of(version)
        if state.retired is not None:
            stage, aliases = None, ()
            warnings += (f"{state.name} is retired ({state.retired}): v{version} holds no stage or alias",)
        return ModelVersion(manifest, stage, aliases, registered.commit, warnings, self.config.store)

    def read_manifest(self, name: str, version: int, commit: str, branch_rev: str | None = None) -> Manifest:
        """The manifest as tagged, with `description` and `tags` from the current copy.

        Only those two keys may change after registration (DESIGN §2); everything else is
        taken from the commit the version tag points at. The current copy is the work tree's, or
        the one at `branch_rev` (a remote view reads its default branch's).
        """
        return self.read_manifests(name, [(version, commit)], branch_rev)[0]

    def read_manifests(
        self, name: str, versions: list[tuple[int, str]], branch_rev: str | None = None
    ) -> list[Manifest]:
        """`read_manifest` of each (version, commit), every file read in one `cat-file --batch`."""
        branch_rev = branch_rev or ("refs/remotes/origin/HEAD" if self.source else None)
        paths = [manifestmod.manifest_path(name, version) for version, _ in versions]
        specs = [
            spec
            for (_, commit), path in zip(versions, paths, strict=True)
            for spec in ((commit, path), (branch_rev, path))
        ]
        texts = self.git.read_files(specs, keep=True)
        found = []
        for index, ((version, _), path) in enumerate(zip(versions, paths, strict=True)):
            tagged_text, current_text = texts[2 * index], texts[2 * index + 1]
            if tagged_text is None:
                raise NotFoundError(f"{version_tag(name, version)} points at a commit without {path}")
            tagged = manifestmod.from_yaml(tagged_text, f"{path} at {version_tag(name, version)}")
            if current_text is None:
                found.append(tagged)
                continue
            current = manifestmod.from_yaml(current_text, path)
            manifestmod.check_manifest_matches(current, name, version, path)
            found.append(tagged._replace(description=current.description, tags=current.tags))
        return found

    def manifest(self, name: str, version: int) -> Manifest:
        return self.resolve(ModelRef(name, version=version)).manifest

    def diff(self, name: str, a: int, b: int) -> VersionDiff:
        view = self.model(name)
        ma, mb = (self.version(view, self.select(view.state, ModelRef(name, version=v))).manifest for v in (a, b))
        return VersionDiff(
            name,
            a,
            b,
            _changes(ma.params, mb.params),
            _changes(ma.metrics, mb.metrics),
            ma.artifact.digest,
            mb.artifact.digest,
        )

    def pull(
        self,
        ref: str | ModelRef | ModelVersion,
        dest: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
        store: str | None = None,
        force: bool = False,
    ) -> Path:
        """Place a verified artifact in the directory `dest`; its blobs come from the store of record (the
        policy config's), or from `store` when the caller names one, never from a URL the manifest names.

        `dest` must not exist or be an empty directory; with `force`, whatever is there is replaced at once.
        """
        resolved = ref if isinstance(ref, ModelVersion) else self.resolve(ref)
        origin = resolved.manifest.extra.get("origin")
        if isinstance(origin, dict) and isinstance(origin.get("missing"), str):
            raise NotFoundError(
                f"{resolved.name} v{resolved.version} has no model bytes: it was imported from "
                f"{origin.get('from', 'another registry')} without them ({origin['missing']})"
            )
        target = (Path(dest) if dest is not None else Path.cwd() / f"{resolved.name}-v{resolved.version}").absolute()
        from modelreg.store.missing import (
            explained,  # the store: ~20 ms of start-up (sqlite3, threading, uuid) that reads without bytes never pay
        )
        from modelreg.store.transfer import check_destination, materialise

        check_destination(target, force)
        blobs = self.store(store or self.config.store)
        if progress is not None:
            progress.start(f"pulling {resolved.name} v{resolved.version}", resolved.manifest.artifact.size)
        advance = progress.advance if progress else None
        with explained(resolved.manifest, blobs):  # a missing blob names its store, its clone and the fix
            return materialise(blobs, resolved.manifest.artifact, target, advance, force=force)

    def store(self, url: str) -> BlobStore:
        from modelreg.store.gitstore import is_git_store, open_any  # the store: see pull

        if self.source and "://" not in url and not os.path.isabs(url) and not is_git_store(url):
            raise InvalidInputError(
                f"the store {url!r} is a path inside the registry's repository: pull from a clone of "
                f"{self.source}, or point the registry at shared storage"
            )
        options = self.config.store_options if url == self.config.store else {}
        return open_any(url, self.root, options, self.source or self.config.remote)


@contextmanager
def _telling(warnings: tuple[str, ...]) -> Iterator[None]:
    """Errors raised inside carry `warnings`: a read that fails still says what the policy ignored."""
    try:
        yield
    except ModelregError as exc:
        exc.warnings = warnings
        raise


def malformed(problems: tuple[str, ...], name: str) -> tuple[str, ...]:
    """One warning per tag of model `name` that has a modelreg name but is no well-formed event."""
    split = (problem.partition(": ") for problem in problems)
    ours = [(tag, why) for tag, _, why in split if (parsed := parse_tag_name(tag)) and parsed.name == name]
    return tuple(f"ignoring {tag}: {why}" for tag, why in ours)


def registration(events: list[Event], version: int) -> Event:
    """The register event of `version`."""
    for event in events:
        if event.action == "register" and event.version == version:
            return event
    raise NotFoundError(f"version {version} has no version tag")


def _changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[ValueChange, ...]:
    return tuple(ValueChange(key, a.get(key), b.get(key)) for key in sorted(a.keys() | b.keys()))


def _until(events: list[Event], moment: Moment) -> list[Event]:
    """The events that had happened at `moment` (a moment comes from `Reader.moment`, which loaded asof)."""
    from modelreg.core import asof  # see Reader.moment

    return asof.until(events, moment)
