"""The Registry: every operation the CLI offers, typed, never printing."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from modelreg import config as configmod
from modelreg import manifest as manifestmod
from modelreg import snapshot
from modelreg.config import CONFIG_PATH, DEFAULT_STORE, Config, check_store_url
from modelreg.errors import IntegrityError, InvalidInputError, NotFoundError
from modelreg.events import (
    current_holder,
    event_message,
    held_before,
    history_order,
    replay,
    rollback_version,
    to_archive,
)
from modelreg.gitrepo import GitRepo, RefUpdate
from modelreg.models import (
    Action,
    Artifact,
    Event,
    Lineage,
    Manifest,
    ModelState,
    ModelSummary,
    ModelVersion,
    Scalar,
    TargetKind,
    Training,
)
from modelreg.paths import cache_dir, cache_home
from modelreg.publish import BranchMove, Target, publish, with_retries
from modelreg.refs import (
    CLAIMS_PREFIX,
    ModelRef,
    check_alias,
    check_name,
    claim_ref,
    event_tag,
    parse_ref,
    parse_tag_name,
    tag_patterns,
    version_tag,
)
from modelreg.snapshot import Snapshot
from modelreg.values import check_scalars

if TYPE_CHECKING:
    from modelreg.checks import GcReport, VerifyReport
    from modelreg.hashing import Progress
    from modelreg.reviews import ApplyResult, CreatedRequest, RequestStatus
    from modelreg.storage import BlobStore

MODELS_DIR = ".modelreg/models"


class InitResult(NamedTuple):
    root: Path
    config_path: Path
    store: str
    commit: str


class ValueChange(NamedTuple):
    key: str
    a: Any
    b: Any

    @property
    def delta(self) -> float | None:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (self.a, self.b))
        return self.b - self.a if numeric else None


class VersionDiff(NamedTuple):
    name: str
    a: int
    b: int
    params: tuple[ValueChange, ...]
    metrics: tuple[ValueChange, ...]
    digest_a: str
    digest_b: str


class UpdateResult(NamedTuple):
    manifest: Manifest
    commit: str | None  # the commit that recorded the change; None when nothing changed


class FetchReport(NamedTuple):
    """What `fetch` found: refs that changed on the remote are never taken silently."""

    remote: str
    fetched: bool
    problems: tuple[str, ...]  # a modelreg tag or claim ref moved on the remote, or missing there


class RefCheck(NamedTuple):
    """What a CI job needs to know about one tag."""

    tag: str
    model: str
    version: int
    action: str
    kind: str | None
    target: str | None
    seq: int | None
    digest: str
    store: str
    actor: str
    date: str
    current: bool  # still in effect: the version still holds the target (or, for a version tag, exists)
    request: str | None = None  # the merged request it applies, if any
    approved_by: str | None = None  # who merged that request

    @property
    def stage(self) -> str | None:
        return self.target if self.kind == "stage" else None

    @property
    def alias(self) -> str | None:
        return self.target if self.kind == "alias" else None


def _utc(epoch: int) -> str:
    """A manifest's `created_at`: UTC, as in DESIGN §2."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git_date(epoch: int, offset: str) -> str:
    """The form `git for-each-ref --format=%(taggerdate:iso-strict)` gives, so events read back alike."""
    sign = -1 if offset.startswith("-") else 1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return datetime.fromtimestamp(epoch, zone).isoformat()


class Registry:
    """A model registry in a git repository's `.modelreg/` directory."""

    def __init__(self, git: GitRepo, config: Config, source: str | None = None) -> None:
        self.git = git
        self.config = config
        self.source = source  # the URL of a read-only view (`open_url`); None for a work tree
        self.warnings: list[str] = []  # things a caller may want to tell the user; never errors
        self.stale_hint = False  # add "fetch first?" to not-found errors (the CLI sets it without --fetch)

    @property
    def root(self) -> Path:
        return self.git.root

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".") -> Registry:
        git = GitRepo.discover(path)
        data = _read_bytes(git.root / CONFIG_PATH)
        if data is None:
            raise NotFoundError(f"no registry in {git.root}: run `modelreg init` first")
        return cls(git, configmod.from_yaml(data.decode("utf-8"), CONFIG_PATH))

    @classmethod
    def open_url(cls, url: str, name: str | None = None) -> Registry:
        """A read-only view of the registry at a git URL, without cloning it.

        Only the tags (of model `name`, or of every model), their event refs, and the commits
        they point at are fetched, shallow and blob-less, into a cache under
        `$XDG_CACHE_HOME/modelreg/repos/`; the config and the manifests read are fetched on demand.
        A serving host that needs `fraud-detector@champion` downloads a few kilobytes, not history.
        """
        if name is not None:
            check_name(name)
        refspecs = (
            [
                f"refs/tags/{name}@v*:refs/tags/{name}@v*",
                f"refs/tags/{name}#*:refs/tags/{name}#*",
                f"+{CLAIMS_PREFIX}{name}/*:{CLAIMS_PREFIX}{name}/*",
            ]
            if name is not None
            else ["refs/tags/*:refs/tags/*", f"{CLAIMS_PREFIX}*:{CLAIMS_PREFIX}*"]
        )
        git = GitRepo.mirror(url, cache_home() / "repos", refspecs)
        (text,) = git.read_blobs([f"refs/remotes/origin/HEAD:{CONFIG_PATH}"])
        if text is None:
            raise NotFoundError(f"no registry at {url}: its default branch has no {CONFIG_PATH}")
        return cls(git, configmod.from_yaml(text, f"{CONFIG_PATH} at {url}"), source=url)

    @staticmethod
    def init(path: str | os.PathLike[str] = ".", store: str | None = None) -> InitResult:
        """Write and commit `.modelreg/config.yaml` (and ignore the default local store)."""
        git = GitRepo.discover(path)
        config_file = git.root / CONFIG_PATH
        if config_file.exists():
            raise InvalidInputError(f"{CONFIG_PATH} already exists in {git.root}")
        git.identity()
        branch = git.branch()
        if branch is None:
            raise InvalidInputError("HEAD is detached: check out a branch before `modelreg init`")
        config = Config(
            store=check_store_url(store) if store else DEFAULT_STORE, main_branch=branch.removeprefix("refs/heads/")
        )
        files = {CONFIG_PATH: configmod.to_yaml(config)}
        if config.store == DEFAULT_STORE:
            files[".modelreg/.gitignore"] = "# the default local artifact store\n/store/\n"
        parent = git.resolve_commit("HEAD")
        commit, blobs = git.commit_files(parent, files, "modelreg: init registry")
        git.update_refs([RefUpdate(branch, commit, parent)], "modelreg: init")
        for rel, text in files.items():
            _write_worktree(git, rel, text, blobs[rel])
        return InitResult(git.root, config_file, config.store, commit)

    # --- reading ---------------------------------------------------------------------------

    def _snapshot(self, name: str | None) -> Snapshot:
        """The model's (or every model's) parsed tags and claim refs (see snapshot)."""
        return snapshot.take(self.git, name, cache_dir())

    def _model(self, name: str) -> tuple[ModelState, list[Event], Snapshot]:
        check_name(name)
        snap = self._snapshot(name)
        events = snap.events.get(name, [])
        state = replay(name, events)
        if not state.versions:
            raise NotFoundError(f"no model named {name!r} is registered{self._behind()}")
        return state, events, snap

    def _behind(self) -> str:
        """A hint for not-found errors in a clone whose view of the remote may be stale."""
        if not self.stale_hint or self.source or not self.git.git("remote").strip():
            return ""
        return " (this clone may be behind its remote: try again with --fetch, or run `modelreg fetch`)"

    def state(self, name: str) -> ModelState:
        return self._model(name)[0]

    def fetch(self, remote: str | None = None) -> FetchReport:
        """Bring the registry's tags, claim refs and branch up to date from `remote`.

        A plain `git fetch` keeps a stale local tag when the remote's moved, and a stale clone can
        resurrect a tag deleted remotely; here every local modelreg ref is first compared with
        the remote's (`git ls-remote`), and any difference is reported instead of fetched.
        """
        name = remote or self.config.remote
        self.git.check_remote(name)
        branches = {self.git.branch(), f"refs/heads/{self.config.main_branch}"} - {None}
        moved, only_here = self._sync(name, None, sorted(b for b in branches if b))
        problems = [*moved, *only_here]
        return FetchReport(name, not problems, tuple(problems))

    def _sync(self, remote: str, model: str | None, branches: list[str]) -> tuple[list[str], list[str]]:
        """Compare this clone's modelreg refs with the remote's, then fetch the remote's.

        Returns (refs moved on the remote, refs only here); nothing is fetched unless both are
        empty. Only modelreg's own refs are compared and fetched: a moved `nightly` tag of the
        project is none of its business.
        """
        claims = f"{CLAIMS_PREFIX}{model}/" if model else CLAIMS_PREFIX
        tag_globs = [f"refs/tags/{model}@v*", f"refs/tags/{model}#*"] if model else ["refs/tags/*"]
        theirs_all = self.git.ls_remote(remote, [*tag_globs, f"{claims}*", *branches])
        ours_text = self.git.ref_ids([*tag_patterns(model), claims])
        ours = dict(line.split(" ", 1) for line in ours_text.splitlines() if line)

        def ours_to_check(ref: str) -> bool:
            if ref.startswith(CLAIMS_PREFIX):
                return model is None or ref.startswith(claims)
            parsed = parse_tag_name(ref)
            return parsed is not None and (model is None or parsed.name == model)

        theirs = {ref: obj for ref, obj in theirs_all.items() if ours_to_check(ref)}
        moved, only_here = [], []
        for ref, obj in sorted(ours.items(), key=lambda item: (item[0].startswith(CLAIMS_PREFIX), item[0])):
            if not ours_to_check(ref):
                continue
            short = ref.removeprefix("refs/tags/")
            if ref not in theirs:
                only_here.append(f"{short} is here but not on {remote}: deleted there, or never pushed")
            elif theirs[ref] != obj:
                moved.append(f"{short} points at {theirs[ref][:12]} on {remote} but at {obj[:12]} here: it was moved")
        if moved or only_here:
            return moved, only_here
        refspecs = [f"{ref}:{ref}" for ref in sorted(theirs) if theirs[ref] != ours.get(ref)]
        for branch in branches:
            if branch in theirs_all:
                refspecs.append(f"+{branch}:refs/remotes/{remote}/{branch.removeprefix('refs/heads/')}")
        if refspecs:
            self.git.fetch(remote, refspecs)
        return [], []

    def models(self) -> list[ModelSummary]:
        """Every registered model with its latest version, stage holders and aliases."""
        summaries = []
        for name, events in sorted(self._snapshot(None).events.items()):
            state = replay(name, events)
            if not state.versions:
                continue
            holders = {s: h for s in self.config.stages if (h := state.stage_holder(s)) is not None}
            summaries.append(ModelSummary(name, state.latest, len(state.versions), holders, dict(state.aliases)))
        return summaries

    def history(self, name: str) -> list[Event]:
        """Registrations and stage/alias events in causal order (seq), oldest first."""
        return history_order(self._model(name)[1])

    def problems(self, name: str | None = None) -> tuple[str, ...]:
        """Tags with a modelreg name that are not well-formed modelreg events."""
        return self._snapshot(name).problems

    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """The version a reference points at, with its manifest, stage and aliases."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        state, events, _ = self._model(parsed.name)
        version = self._select(state, parsed)
        return self._version(state, events, version)

    show = resolve

    def _select(self, state: ModelState, ref: ModelRef) -> int:
        if ref.version is not None:
            if ref.version not in state.versions:
                raise NotFoundError(
                    f"{ref.name} has no version {ref.version} (latest is v{state.latest}){self._behind()}"
                )
            return ref.version
        if ref.alias is not None:
            if ref.alias in self.config.stages:
                raise InvalidInputError(f"{ref.alias!r} is a stage, not an alias: write {ref.name}/{ref.alias}")
            if ref.alias not in state.aliases:
                known = ", ".join(sorted(state.aliases)) or "none"
                raise NotFoundError(f"{ref.name} has no alias {ref.alias!r} (aliases: {known}){self._behind()}")
            return state.aliases[ref.alias]
        if ref.stage is not None:
            self.config.check_stage(ref.stage)
            holder = state.stage_holder(ref.stage)
            if holder is None:
                raise NotFoundError(f"no version of {ref.name} is in stage {ref.stage!r}{self._behind()}")
            return holder
        assert state.latest is not None
        return state.latest

    def _version(self, state: ModelState, events: list[Event], version: int) -> ModelVersion:
        commit = self._version_commit(events, version)
        manifest = self._read_manifest(state.name, version, commit)
        return ModelVersion(manifest, state.stages.get(version), state.aliases_of(version), commit)

    @staticmethod
    def _version_commit(events: list[Event], version: int) -> str:
        for event in events:
            if event.action == "register" and event.version == version:
                return event.commit
        raise NotFoundError(f"version {version} has no version tag")

    def _read_manifest(self, name: str, version: int, commit: str, branch_rev: str | None = None) -> Manifest:
        """The manifest as tagged, with `description` and `tags` from the current copy.

        Only those two keys may change after registration (DESIGN §2); everything else is
        taken from the commit the version tag points at. The current copy is the work tree's, or
        the one at `branch_rev` (a remote view reads its default branch's).
        """
        path = manifestmod.manifest_path(name, version)
        branch_rev = branch_rev or ("refs/remotes/origin/HEAD" if self.source else None)
        specs = [f"{commit}:{path}"] + ([f"{branch_rev}:{path}"] if branch_rev else [])
        tagged_text, *branch_text = self.git.read_blobs(specs)
        if tagged_text is None:
            raise NotFoundError(f"{version_tag(name, version)} points at a commit without {path}")
        tagged = manifestmod.from_yaml(tagged_text, f"{path} at {version_tag(name, version)}")
        if branch_rev:
            current_text = branch_text[0] if branch_text else None
        else:
            data = _read_bytes(self.root / path)
            current_text = None if data is None else data.decode("utf-8")
        if current_text is None:
            return tagged
        current = manifestmod.from_yaml(current_text, path)
        manifestmod.check_manifest_matches(current, name, version, path)
        return tagged._replace(description=current.description, tags=current.tags)

    def manifest(self, name: str, version: int) -> Manifest:
        return self.resolve(ModelRef(name, version=version)).manifest

    def diff(self, name: str, a: int, b: int) -> VersionDiff:
        state, events, _ = self._model(name)
        ma, mb = (self._version(state, events, self._select(state, ModelRef(name, version=v))).manifest for v in (a, b))
        return VersionDiff(
            name,
            a,
            b,
            _changes(ma.params, mb.params),
            _changes(ma.metrics, mb.metrics),
            ma.artifact.digest,
            mb.artifact.digest,
        )

    def check_ref(self, ref: str) -> RefCheck:
        """Describe a modelreg tag (`name@v7`, `name#production#12`, or `refs/tags/…`) for CI.

        Raises IntegrityError when the tag does not verify: its claim ref, the merged request a
        review-required stage needs, its signature when the registry requires them.
        """
        from modelreg.checks import audit_event

        parsed = parse_tag_name(ref.strip())
        if parsed is None:
            raise InvalidInputError(f"{ref[:200]!r} is not a modelreg tag (NAME@vN or NAME#TARGET#SEQ)")
        tag = ref.strip().removeprefix("refs/tags/")
        state, events, snap = self._model(parsed.name)
        event = next((e for e in events if e.tag == tag), None)
        if event is None:
            bad = next((p for p in snap.problems if p.startswith(f"{tag}:")), None)
            if bad is not None:
                raise IntegrityError(f"{bad}")
            raise NotFoundError(f"tag {tag} does not exist here{self._behind()}")
        findings = audit_event(self, event, events, snap.claims)
        if findings:
            raise IntegrityError(f"{tag} does not verify: {findings[0].message}")
        manifest = self._version(state, events, event.version).manifest
        current = _still_in_effect(event, events, state)
        return RefCheck(
            tag=tag,
            model=event.name,
            version=event.version,
            action=event.action,
            kind=event.kind,
            target=event.target,
            seq=event.seq,
            digest=manifest.artifact.digest,
            store=manifest.artifact.store,
            actor=event.actor,
            date=event.date,
            current=current,
            request=event.request,
            approved_by=event.approved_by,
        )

    def pull(
        self,
        ref: str | ModelRef | ModelVersion,
        dest: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
    ) -> Path:
        """Download (verified, via the cache) and place the artifact; returns the local path.

        `ref` may be a reference or a version already resolved.
        """
        from modelreg.storage import materialise

        resolved = ref if isinstance(ref, ModelVersion) else self.resolve(ref)
        target = Path(dest) if dest is not None else Path.cwd() / f"{resolved.name}-v{resolved.version}"
        store = self._store(resolved.manifest.artifact.store)
        if progress is not None:
            progress.start(f"pulling {resolved.name} v{resolved.version}", resolved.manifest.artifact.size)
        return materialise(store, resolved.manifest.artifact, target.absolute(), progress.advance if progress else None)

    def _store(self, url: str) -> BlobStore:
        from modelreg.storage import open_store

        if self.source and "://" not in url and not os.path.isabs(url):
            raise InvalidInputError(
                f"the store {url!r} is a path inside the registry's repository: pull from a clone of "
                f"{self.source}, or point the registry at shared storage"
            )
        options = self.config.store_options if url == self.config.store else {}
        return open_store(url, self.root, options)

    # --- writing ---------------------------------------------------------------------------

    def register(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        params: dict[str, Scalar] | None = None,
        metrics: dict[str, Scalar] | None = None,
        tags: dict[str, Scalar] | None = None,
        description: str = "",
        dataset: str | None = None,
        run_id: str | None = None,
        parent: str | None = None,
        hardware: str | None = None,
        duration_s: float | None = None,
        store: str | None = None,
        progress: Progress | None = None,
        push: bool | None = None,
        remote: str | None = None,
        branch: str | None = None,
    ) -> ModelVersion:
        """Hash and store an artifact, commit its manifest and tag it `NAME@v<N>`.

        With `push` the commit and tag go to the remote in one atomic push, retried on top of
        other writers' work until the remote takes them; `branch` commits to a branch that need
        not be checked out (CI runs on a detached HEAD).
        """
        from modelreg.hashing import scan, tree_digest
        from modelreg.storage import ingest

        check_name(name)
        checked = {
            what: check_scalars(values or {}, what)
            for what, values in (("params", params), ("metrics", metrics), ("tags", tags))
        }
        store_url = check_store_url(store) if store else self.config.store
        files = scan(Path(path))
        target = self._target(push, remote, branch, commits=True)
        who, epoch, _ = self.git.identity()
        if duration_s is not None and duration_s < 0:
            raise InvalidInputError("--duration-s must not be negative")
        parent_ref = self._parent_ref(parent) if parent else None
        blob_store = self._store(store_url)

        if progress is not None:
            progress.start(f"hashing {name}", sum(src.stat().st_size for src, _ in files))
        hashed, _ = ingest(blob_store, files, progress.advance if progress else None)
        digest = hashed[0].digest if Path(path).is_file() else tree_digest(hashed)

        head = self.git.resolve_commit("HEAD")
        lineage = Lineage(
            code_commit=head,
            code_dirty=self.git.is_dirty(".modelreg/") if head else False,
            dataset=dataset,
            run_id=run_id,
            parent=parent_ref,
        )
        artifact = Artifact(store_url, digest, sum(f.size for f in hashed), tuple(hashed))

        def attempt() -> ModelVersion:
            snap = self._snapshot(name)
            base, move_from = self._commit_base(target)
            version = self._next_version(name, snap.taken_versions.get(name, set()), base)
            manifest = Manifest(
                name=name,
                version=version,
                created_at=_utc(epoch),
                created_by=who,
                description=description,
                artifact=artifact,
                params=checked["params"],
                metrics=checked["metrics"],
                lineage=lineage,
                training=Training(duration_s=duration_s, hardware=hardware),
                tags=checked["tags"],
            )
            rel = manifestmod.manifest_path(name, version)
            text = manifestmod.to_yaml(manifest)
            commit, blobs = self.git.commit_files(base, {rel: text}, f"modelreg: register {name} v{version}")
            tag = version_tag(name, version)
            message = event_message(
                f"{name} v{version}: registered", {"action": "register", "version": version, "digest": digest}
            )
            tag_object = self.git.make_tag(tag, commit, message)
            self._publish_commit(
                target,
                move_from,
                commit,
                rel,
                text,
                blobs[rel],
                [(f"refs/tags/{tag}", tag_object)],
                f"modelreg: register {name} v{version}",
            )
            return ModelVersion(manifest, None, (), commit)

        return with_retries(target, lambda: self._fetch_for(target, name), attempt)

    def _target(
        self,
        push: bool | None,
        remote: str | None,
        branch: str | None = None,
        commits: bool = False,
        sign: bool | None = None,
    ) -> Target:
        """Where a write goes; for writes that commit, the branch (the checked-out one by default).

        Tags are signed when asked, and by default when the registry requires signed events.
        """
        self.warnings.clear()
        if self.source:
            raise InvalidInputError(f"{self.source} is open read-only: clone it to write")
        pushing = self.config.push if push is None else push
        remote_name = (remote or self.config.remote) if pushing else None
        if remote_name is not None:
            self.git.check_remote(remote_name)
        branch_ref = None
        if commits:
            if branch is not None:
                check_branch = branch.removeprefix("refs/heads/")
                self.git.git("check-ref-format", "--branch", check_branch)
                branch_ref = f"refs/heads/{check_branch}"
            else:
                branch_ref = self.git.branch()
                if branch_ref is None:
                    raise InvalidInputError(
                        "HEAD is detached: check out a branch, or name the one to commit to with --branch"
                    )
        return Target(remote_name, branch_ref, self.config.require_signed if sign is None else sign)

    def _fetch_for(self, target: Target, name: str | None) -> None:
        """Before a pushed write: the remote's refs for this model, or a clear refusal."""
        assert target.remote is not None
        moved, only_here = self._sync(target.remote, name, [target.branch] if target.branch else [])
        if moved:
            raise IntegrityError(f"{moved[0]} (`modelreg fetch` lists every such ref)")
        if only_here:
            raise InvalidInputError(
                f"{only_here[0]}: modelreg pushes only what it writes; push that ref yourself "
                f"(git push {target.remote} <ref>) or delete it here, then try again"
            )

    def _commit_base(self, target: Target) -> tuple[str | None, str | None]:
        """(parent of the new commit, the remote branch tip it must move from when pushing)."""
        assert target.branch is not None
        local = self.git.resolve_commit(target.branch)
        if target.remote is None:
            if local is None and target.branch != self.git.branch():
                raise NotFoundError(f"there is no branch {target.branch.removeprefix('refs/heads/')!r} here")
            return local, local
        remote_tip = self.git.resolve_commit(target.tracking or "")
        if remote_tip is None:
            return local, None
        if local is None or self.git.is_ancestor(local, remote_tip):
            return remote_tip, remote_tip
        short = target.branch.removeprefix("refs/heads/")
        raise InvalidInputError(
            f"branch {short} has commits that {target.remote} does not: push or rebase them first "
            f"(modelreg pushes only what it writes)"
        )

    def _publish_commit(
        self,
        target: Target,
        move_from: str | None,
        commit: str,
        rel: str,
        text: str,
        blob: str,
        refs: list[tuple[str, str]],
        reason: str,
    ) -> None:
        assert target.branch is not None
        checked_out = target.branch == self.git.branch()
        followed = publish(
            self.git, target, refs, reason, BranchMove(target.branch, commit, move_from), checked_out=checked_out
        )
        if target.remote is None and checked_out:
            _write_worktree(self.git, rel, text, blob)
        elif not followed:
            self.warnings.append(
                f"pushed, but your checkout could not fast-forward to it (local changes in the way): "
                f"run `git pull --ff-only` to bring in {rel}"
            )

    def _parent_ref(self, parent: str) -> str:
        resolved = self.resolve(parent)
        return version_tag(resolved.name, resolved.version)

    def _next_version(self, name: str, tagged: set[int], base: str | None) -> int:
        """One past every version seen: tag names (even malformed ones), manifests at the base commit
        and in the work tree."""
        seen = set(tagged)
        directory = f"{MODELS_DIR}/{name}"
        names = set(self.git.list_dir(base, directory)) if base else set()
        local = self.root / directory
        if local.is_dir():
            names.update(os.listdir(local))
        for filename in names:
            stem = filename.removesuffix(".yaml")
            if filename.endswith(".yaml") and stem[:1] == "v" and stem[1:].isdigit():
                seen.add(int(stem[1:]))
        return max(seen, default=0) + 1

    def promote(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        keep_existing: bool = False,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Assign `stage` to a version; a single-holder stage archives its previous holder."""
        target = self._target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._promote(target, name, version, stage, keep_existing, reason))

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Point `alias` at a version (moving it if it points elsewhere)."""
        target = self._target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._set_alias(target, name, alias, version, reason))

    def remove_alias(
        self,
        name: str,
        alias: str,
        *,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        target = self._target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._remove_alias(target, name, alias, reason))

    def rollback(
        self,
        name: str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        to: int | None = None,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Re-assign the version that held a stage (default `production`) or alias before the current one."""
        target = self._target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._rollback(target, name, stage, alias, to, reason))

    def request(
        self,
        name: str,
        version: int,
        target: str,
        *,
        kind: TargetKind = "stage",
        keep_existing: bool = False,
        reason: str | None = None,
        branch: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
    ) -> CreatedRequest:
        """Propose a stage (or alias) change for review: a request file committed on a new branch.

        The result carries the branch and a Markdown body for the pull request; merging it is the
        approval, and `apply` (in CI, on the main branch) then writes the event.
        """
        from modelreg import reviews

        check_name(name)
        return reviews.create(
            self,
            self._target(push, remote),
            name,
            version,
            kind,
            target,
            keep_existing=keep_existing,
            reason=reason,
            branch=branch,
        )

    def requests(self) -> list[RequestStatus]:
        """Requests on `modelreg/request/*` branches (open), merged and waiting, and applied."""
        from modelreg import reviews

        found, problems = reviews.statuses(self)
        self.warnings[:] = problems
        return found

    def apply(
        self, *, push: bool | None = None, remote: str | None = None, sign: bool | None = None
    ) -> list[ApplyResult]:
        """Write the event of every merged, not yet applied request on the checked-out main line."""
        from modelreg import reviews

        return reviews.apply(self, push=push, remote=remote, sign=sign)

    def _event(self, target: Target, name: str, attempt: Callable[[], Event]) -> Event:
        check_name(name)
        return with_retries(target, lambda: self._fetch_for(target, name), attempt)

    def _promote(
        self, dest: Target, name: str, version: int, stage: str, keep_existing: bool, reason: str | None
    ) -> Event:
        self.config.check_stage(stage)
        if stage in self.config.review_required:
            raise InvalidInputError(
                f"stage {stage!r} requires review (review_required in {CONFIG_PATH}): request it with "
                f"`modelreg promote {name} {version} {stage} --request`, open a pull request, and CI "
                "applies it after the merge (`modelreg apply`)"
            )
        state, events, snap = self._model(name)
        self._select(state, ModelRef(name, version=version))
        if state.stages.get(version) == stage:
            raise InvalidInputError(f"{name} v{version} is already in stage {stage!r}")
        archived = () if keep_existing else to_archive(state, version, stage, stage in self.config.single_holder)
        subject = f"{name} v{version} → {stage}" + (
            f" (archived {', '.join(f'v{v}' for v in archived)})" if archived else ""
        )
        return self._write_event(
            dest, state, events, snap, "assign", "stage", stage, version, subject, reason, archived
        )

    def _set_alias(self, dest: Target, name: str, alias: str, version: int, reason: str | None) -> Event:
        check_alias(alias, self.config.stages)
        state, events, snap = self._model(name)
        self._select(state, ModelRef(name, version=version))
        if state.aliases.get(alias) == version:
            raise InvalidInputError(f"alias {alias!r} already points at {name} v{version}")
        return self._write_event(
            dest, state, events, snap, "assign", "alias", alias, version, f"{name}@{alias} → v{version}", reason
        )

    def _remove_alias(self, dest: Target, name: str, alias: str, reason: str | None) -> Event:
        check_name(alias, "alias")
        state, events, snap = self._model(name)
        if alias not in state.aliases:
            raise NotFoundError(f"{name} has no alias {alias!r}")
        version = state.aliases[alias]
        return self._write_event(
            dest,
            state,
            events,
            snap,
            "unassign",
            "alias",
            alias,
            version,
            f"{name}@{alias} removed (was v{version})",
            reason,
        )

    def _rollback(
        self, dest: Target, name: str, stage: str | None, alias: str | None, to: int | None, reason: str | None
    ) -> Event:
        if stage is not None and alias is not None:
            raise InvalidInputError("give either a stage or an alias to roll back, not both")
        kind: TargetKind = "alias" if alias is not None else "stage"
        target = alias if alias is not None else (stage or "production")
        if stage is None and alias is None and "production" not in self.config.stages:
            raise InvalidInputError(
                "no 'production' stage is configured: say what to roll back with --stage or --alias"
            )
        if kind == "stage":
            self.config.check_stage(target)
        else:
            check_name(target, "alias")
        state, events, snap = self._model(name)
        if to is not None:
            self._select(state, ModelRef(name, version=to))
        version = rollback_version(state, kind, target, to)
        if kind == "stage" and target in self.config.review_required and not held_before(events, kind, target, version):
            raise InvalidInputError(
                f"v{version} never held review-required stage {target!r}: giving it the stage needs a "
                f"reviewed request (`modelreg promote {name} {version} {target} --request`)"
            )
        previous = current_holder(state, kind, target)
        archived = to_archive(state, version, target, target in self.config.single_holder) if kind == "stage" else ()
        label = f"{name}/{target}" if kind == "stage" else f"{name}@{target}"
        return self._write_event(
            dest,
            state,
            events,
            snap,
            "rollback",
            kind,
            target,
            version,
            f"{label} rolled back to v{version} (from v{previous})",
            reason,
            archived,
            extra={"from": previous},
        )

    def _write_event(
        self,
        dest: Target,
        state: ModelState,
        events: list[Event],
        snap: Snapshot,
        action: Action,
        kind: TargetKind,
        target: str,
        version: int,
        subject: str,
        reason: str | None,
        archived: tuple[int, ...] = (),
        extra: dict[str, Any] | None = None,
        request: str | None = None,
    ) -> Event:
        """Tag the version's commit with the event and claim its seq: both refs land together or neither."""
        who, epoch, offset = self.git.identity()
        seq = max(state.last_seq, *snap.taken_seqs.get(state.name, {0})) + 1
        commit = self._version_commit(events, version)
        tag = event_tag(state.name, target, seq)
        payload = {
            "action": action,
            "kind": kind,
            "target": target,
            "version": version,
            "archived": list(archived),
            "reason": reason,
            "request": request,
            **(extra or {}),
        }
        tag_object = self.git.make_tag(tag, commit, event_message(subject, payload), sign=dest.sign)
        publish(
            self.git,
            dest,
            [(f"refs/tags/{tag}", tag_object), (claim_ref(state.name, seq), tag_object)],
            f"modelreg: {tag}",
        )
        event = Event(
            name=state.name,
            action=action,
            version=version,
            tag=tag,
            seq=seq,
            kind=kind,
            target=target,
            archived=archived,
            reason=reason,
            request=request,
            approved_by=payload.get("approved_by"),
            merge_commit=payload.get("merge_commit"),
            actor=who,
            date=_git_date(epoch, offset),
            commit=commit,
            subject=subject,
            object=tag_object,
        )
        return event

    def verify(self, name: str | None = None, *, blobs: bool = False, progress: Progress | None = None) -> VerifyReport:
        """Check tags, claim refs and manifests (and, with `blobs`, re-hash every stored blob)."""
        from modelreg.checks import verify

        if name is not None:
            self._model(name)
        return verify(self, name, blobs=blobs, progress=progress)

    def gc(self, *, delete: bool = False, grace_s: float = 24 * 3600) -> GcReport:
        """Blobs in the configured store that no manifest references; removed only with `delete`."""
        from modelreg.checks import collect_garbage

        return collect_garbage(self, delete=delete, grace_s=grace_s)

    def update(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: dict[str, Scalar] | None = None,
        remove_tags: tuple[str, ...] = (),
        push: bool | None = None,
        remote: str | None = None,
        branch: str | None = None,
    ) -> UpdateResult:
        """Edit a version's description and tags (the only mutable keys) in a new commit."""
        if description is None and not tags and not remove_tags:
            raise InvalidInputError("nothing to update: give --description, --tag or --remove-tag")
        extra_tags = check_scalars(tags or {}, "tags")
        target = self._target(push, remote, branch, commits=True)
        self.git.identity()

        def attempt() -> UpdateResult:
            base, move_from = self._commit_base(target)
            state, events, _ = self._model(name)
            self._select(state, ModelRef(name, version=version))
            # The branch being committed to holds the latest description and tags, not the work tree.
            current = self._read_manifest(name, version, self._version_commit(events, version), base)
            unknown = [key for key in remove_tags if key not in current.tags]
            if unknown:
                raise NotFoundError(f"{name} v{version} has no tag {', '.join(map(repr, unknown))}")
            new_tags = {k: v for k, v in current.tags.items() if k not in remove_tags} | extra_tags
            new_description = current.description if description is None else description
            updated = current._replace(description=new_description, tags=new_tags)
            if updated == current:
                return UpdateResult(current, None)
            rel = manifestmod.manifest_path(name, version)
            text = manifestmod.to_yaml(updated)
            commit, blobs = self.git.commit_files(base, {rel: text}, f"modelreg: update {name} v{version}")
            self._publish_commit(
                target, move_from, commit, rel, text, blobs[rel], [], f"modelreg: update {name} v{version}"
            )
            return UpdateResult(updated, commit)

        return with_retries(target, lambda: self._fetch_for(target, name), attempt)


def _still_in_effect(event: Event, events: list[Event], state: ModelState) -> bool:
    """Whether nothing after `event` undid it: what a deploy job needs before acting on a tag."""
    if event.action == "register" or event.seq is None:
        return event.version in state.versions
    if event.kind == "stage":
        return state.stages.get(event.version) == event.target and state.stage_since.get(event.version) == event.seq
    later = any(e.seq is not None and e.seq > event.seq and e.target == event.target for e in events)
    if event.action == "unassign":
        return not later and event.target not in state.aliases
    return not later and state.aliases.get(event.target or "") == event.version


def _write_worktree(git: GitRepo, rel: str, text: str, blob: str) -> None:
    """Put the committed file in the work tree and the user's index, touching no other entry."""
    target = git.root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    git.add_to_index(rel, blob)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[ValueChange, ...]:
    return tuple(ValueChange(key, a.get(key), b.get(key)) for key in sorted(a.keys() | b.keys()))


def pull(ref: str, dest: str | os.PathLike[str] | None = None, repo: str | os.PathLike[str] = ".") -> Path:
    """Pull a verified artifact: `modelreg.pull("fraud-detector@champion", "models/")`."""
    return Registry.open(repo).pull(ref, dest)
