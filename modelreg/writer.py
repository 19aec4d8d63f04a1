"""Writing to a registry: versions, events and edits, locally or through a shared remote (DESIGN §6, §7)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg.core.events import event_message
from modelreg.core.refs import (
    check_name,
    claim_prefixes,
    claim_ref,
    event_tag,
    parse_tag_name,
    tag_patterns,
    version_claim_ref,
    version_tag,
)
from modelreg.core.values import check_metrics, check_scalars
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.formats import config as configmod
from modelreg.formats import manifest as manifestmod
from modelreg.formats.config import CONFIG_PATH, DEFAULT_STORE, INIT_STORE, Config, check_store_url
from modelreg.formats.manifest import MODELS_DIR
from modelreg.git import GitRepo, RefUpdate
from modelreg.models import (
    Action,
    Artifact,
    Event,
    Lineage,
    Manifest,
    ModelState,
    ModelVersion,
    Scalar,
    TargetKind,
    Training,
)
from modelreg.ops.samebytes import same_bytes
from modelreg.read.reader import Reader, registration
from modelreg.read.snapshot import Snapshot
from modelreg.store.gitstore import push_refs

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from modelreg.publish.push import Target
    from modelreg.results import InitResult
    from modelreg.store.hashing import Progress


T = TypeVar("T")


def _utc(epoch: int) -> str:
    """A manifest's `created_at`: UTC, as in DESIGN §2."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git_date(epoch: int, offset: str) -> str:
    """The form `git for-each-ref --format=%(taggerdate:iso-strict)` gives, so events read back alike."""
    from datetime import datetime, timedelta, timezone

    sign = -1 if offset.startswith("-") else 1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return datetime.fromtimestamp(epoch, zone).isoformat()


def init_registry(path: str | os.PathLike[str] = ".", store: str | None = None) -> InitResult:
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
        store=check_store_url(store) if store else INIT_STORE, main_branch=branch.removeprefix("refs/heads/")
    )
    files = {CONFIG_PATH: configmod.to_yaml(config)}
    if config.store == DEFAULT_STORE:
        files[".modelreg/.gitignore"] = "# the default local artifact store\n/store/\n"
    parent = git.resolve_commit("HEAD")
    commit, blobs = git.commit_files(parent, files, "modelreg: init registry")
    git.update_refs([RefUpdate(branch, commit, parent)], "modelreg: init")
    for rel, text in files.items():
        _write_worktree(git, rel, text, blobs[rel])
    from modelreg.results import InitResult

    return InitResult(git.root, config_file, config.store, commit)


class Writer(Reader):
    """A registry that can also be written: versions, event tags and manifest edits.

    Every write is built from objects first, then published all at once (see publish): in this
    repository, or through the remote, redone on top of other writers' work when they win a race.
    """

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
        code_commit: str | None = None,
        origin: Mapping[str, Any] | None = None,
        imported: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Hash and store an artifact, commit its manifest and tag it `NAME@v<N>`.

        With `push` the commit and tag go to the remote in one atomic push, retried on top of
        other writers' work until the remote takes them; `branch` commits to a branch that need
        not be checked out (CI runs on a detached HEAD).

        `code_commit` is the commit of the code that trained it when that is not this
        repository's HEAD (e.g. an MLflow run's `mlflow.source.git.commit`). `origin` says where
        the bytes and metadata came from (`{"from": "MLflow", "run_id": ...}`), kept in the
        manifest under `origin`; `imported` marks a version brought over by `modelreg import`
        (the version tag's payload keeps it under `imported`, with the original author and time).
        """
        from modelreg.store.hashing import scan, tree_digest
        from modelreg.store.transfer import ingest

        check_name(name)
        self._refuse_retired(name)
        checked = {
            what: check_scalars(values or {}, what)
            for what, values in (("params", params), ("metrics", metrics), ("tags", tags))
        }
        check_metrics(checked["metrics"])
        store_url = check_store_url(store) if store else self.config.store
        files = scan(Path(path))
        unsafe = next((rel for _, rel in files if not manifestmod.is_safe_relative_path(rel)), None)
        if unsafe is not None:
            raise InvalidInputError(
                f"{path}: cannot register a file named {unsafe!r}: rename it (no control characters or backslashes)"
            )
        target = self.target(push, remote, branch, commits=True)
        who, epoch, _ = self.git.identity()
        if duration_s is not None and duration_s < 0:
            raise InvalidInputError("--duration-s must not be negative")
        parent_ref = self._parent_ref(parent) if parent else None
        blob_store = self.store(store_url)

        if progress is not None:
            progress.start(f"hashing {name}", sum(src.stat().st_size for src, _ in files))
        hashed, _ = ingest(blob_store, files, progress.advance if progress else None)
        digest = hashed[0].digest if Path(path).is_file() else tree_digest(hashed)

        head = code_commit or self.git.resolve_commit("HEAD")
        lineage = Lineage(
            code_commit=head,
            code_dirty=self.git.is_dirty(".modelreg/") if head and not code_commit else False,
            dataset=dataset,
            run_id=run_id,
            parent=parent_ref,
        )
        artifact = Artifact(store_url, digest, sum(f.size for f in hashed), tuple(hashed))

        def attempt() -> ModelVersion:
            base, move_from = self._commit_base(target)
            version = self._next_version(name, base)
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
                extra={"origin": dict(origin)} if origin else {},
            )
            rel = manifestmod.manifest_path(name, version)
            text = manifestmod.to_yaml(manifest)
            commit, blobs = self.git.commit_files(base, {rel: text}, f"modelreg: register {name} v{version}")
            tag = version_tag(name, version)
            after = self._last_seq(name)  # so history places the registration among the events it followed
            payload: dict[str, Any] = {"action": "register", "version": version, "digest": digest, "after": after}
            if imported:
                payload["imported"] = dict(imported)
            suffix = f" (imported from {imported['from']})" if imported and "from" in imported else ""
            message = event_message(f"{name} v{version}: registered{suffix}", payload)
            tag_object = self._tag_object(target, tag, commit, message, "")
            warnings = self._publish_commit(
                target,
                move_from,
                commit,
                rel,
                text,
                blobs[rel],
                [
                    (f"refs/tags/{tag}", tag_object),
                    (version_claim_ref(name, version), tag_object),
                    *push_refs(blob_store, hashed),  # a git store's blob refs go in the same atomic push
                ],
                f"modelreg: register {name} v{version}",
            )
            warnings += same_bytes(self, name, digest, version)
            if artifact.store != self.config.store:
                warnings += (
                    f"{tag}: its blobs went to {artifact.store!r}, not the store of record {self.config.store!r}: "
                    f"pull it with --store {artifact.store}",
                )
            return ModelVersion(manifest, None, (), commit, warnings, self.config.store)

        return self.retry(target, name, attempt)

    def _refuse_retired(self, name: str) -> None:
        """A retired model takes no new version until `unretire`: nothing of it would resolve but `NAME@N`."""
        try:
            retired = self.state(name).retired
        except NotFoundError:
            return
        if retired is not None:
            raise InvalidInputError(
                f"{name} is retired ({retired}): bring it back with `modelreg unretire {name}` before registering"
            )

    def target(
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
        if self.source:
            raise InvalidInputError(f"{self.source} is open read-only: clone it to write")
        pushing = self.config.push if push is None else push
        remote_name = (remote or self.config.remote) if pushing else None
        if remote_name is not None:
            from modelreg.git.remote import check_remote

            check_remote(self.git, remote_name)
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
        from modelreg.publish.push import Target

        return Target(remote_name, branch_ref, self.config.require_signed if sign is None else sign)

    def retry(self, target: Target, name: str | None, attempt: Callable[[], T]) -> T:
        """Run `attempt` once, or, through a remote, fetch-then-attempt until the remote takes it."""
        from modelreg.publish.fetching import fetch_for_write
        from modelreg.publish.push import with_retries

        return with_retries(target, lambda: fetch_for_write(self, target, name), attempt)

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
    ) -> tuple[str, ...]:
        """Publish the commit (and `refs`); returns warnings for the user."""
        assert target.branch is not None
        checked_out = target.branch == self.git.branch()
        from modelreg.publish.push import BranchMove, publish

        followed = publish(
            self.git, target, refs, reason, BranchMove(target.branch, commit, move_from), checked_out=checked_out
        )
        if target.remote is None and checked_out:
            _write_worktree(self.git, rel, text, blob)
        elif not followed:
            return (
                f"pushed, but your checkout could not fast-forward to it (local changes in the way): "
                f"run `git pull --ff-only` to bring in {rel}",
            )
        return ()

    def _parent_ref(self, parent: str) -> str:
        resolved = self.resolve(parent)
        return version_tag(resolved.name, resolved.version)

    def _last_seq(self, name: str) -> int:
        """The highest seq claimed for `name`: from claim ref names alone (no tag is read)."""
        listing = self.git.ref_ids(claim_prefixes(name)[:1])
        seqs = (line.split(" ", 1)[0].rpartition("/")[2] for line in listing.splitlines())
        return max((int(seq) for seq in seqs if seq.isdigit() and len(seq) < 20), default=0)

    def _next_version(self, name: str, base: str | None) -> int:
        """One past every version seen: version tag names (even malformed tags'), manifests at the
        base commit and in the work tree. Needs no parse of the model's events."""
        seen = set()
        for line in self.git.ref_ids(tag_patterns(name)[:1]).splitlines():
            parsed = parse_tag_name(line.split(" ", 1)[0])
            if parsed is not None and parsed.version is not None:
                seen.add(parsed.version)
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

    def write_event(
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
        refs, event = self.make_event(
            dest, state, events, snap, action, kind, target, version, subject, reason, archived, extra, request
        )
        from modelreg.publish.push import publish

        publish(self.git, dest, refs, f"modelreg: {event.tag}")
        return event

    def make_event(
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
    ) -> tuple[list[tuple[str, str]], Event]:
        """The event's tag object (signed as `dest` asks) and the refs that publish it: its tag and claim ref."""
        who, epoch, offset = self.git.identity()
        seq = max(state.last_seq, *snap.taken_seqs.get(state.name, {0})) + 1
        commit = registration(events, version).commit
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
        tag_object = self._tag_object(dest, tag, commit, event_message(subject, payload), target)
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
        return [(f"refs/tags/{tag}", tag_object), (claim_ref(state.name, seq), tag_object)], event

    def _tag_object(self, dest: Target, tag: str, commit: str, message: str, target: str) -> str:
        """The tag object, signed as `dest` asks; refused, before anything is published, when the registry
        requires signatures and `verify` would not accept this one. `target` is "" for a version tag."""
        if self.config.require_signed and not dest.sign:
            raise InvalidInputError(
                f"this registry requires signed events (require_signed in {CONFIG_PATH}): "
                "drop --no-sign, and set up a signing key (git config user.signingkey)"
            )
        tag_object = self.git.make_tag(tag, commit, message, sign=dest.sign)
        if not self.config.require_signed:
            return tag_object
        from modelreg.models import Event
        from modelreg.read.sigverify import signature_findings

        seq = 1 if target else None
        probe = Event(name="", action="assign", version=1, tag=tag, seq=seq, target=target or None, object=tag_object)
        findings = signature_findings(self.context, {"": [probe]})
        if findings:
            signers = self.config.allowed_signers or "git's allowed signers"
            may = f"that may sign {target!r} events" if target else "allowed to sign"
            raise InvalidInputError(
                f"{findings[0].message}; nothing was written (sign with a key in {signers} {may}: "
                "git config user.signingkey)"
            )
        return tag_object


def _write_worktree(git: GitRepo, rel: str, text: str, blob: str) -> None:
    """Put the committed file in the work tree and the user's index, touching no other entry."""
    target = git.root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    git.add_to_index(rel, blob)
