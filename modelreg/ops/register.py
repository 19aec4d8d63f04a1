"""Registering a version: hash and store the artifact, commit its manifest, tag it `NAME@v<N>` (DESIGN §2, §3).

Also `init`, which writes the registry's config: the first commit a registry has.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from modelreg.core.events import event_message
from modelreg.core.progress import Progress
from modelreg.core.refs import TAGS_PREFIX, check_name, event_tag, version_claim_ref, version_tag
from modelreg.core.values import check_metrics, check_model_tags, check_scalars
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.formats import config as configmod
from modelreg.formats import manifest as manifestmod
from modelreg.formats.config import CONFIG_PATH, DEFAULT_STORE, INIT_STORE, Config, check_store_url
from modelreg.git import GitRepo, RefUpdate
from modelreg.git.catfile import keep_built
from modelreg.git.trees import names_in
from modelreg.models import Artifact, Lineage, Manifest, ModelVersion, Scalar, Training
from modelreg.ops.samebytes import same_bytes
from modelreg.publish.numbering import highest_version, last_seq, taken_in
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import Publisher, stamp_millis
from modelreg.read.reader import Reader
from modelreg.read.snapshot import patterns_for
from modelreg.results import InitResult
from modelreg.store.gitstore import push_refs
from modelreg.store.hashing import scan, tree_digest
from modelreg.store.transfer import ingest


class Metadata(TypedDict, total=False):
    """What a registration records beside the artifact (all optional): `Registry.register`'s keywords."""

    params: Mapping[str, Scalar] | None
    metrics: Mapping[str, Scalar] | None
    tags: Mapping[str, Scalar] | None
    description: str
    dataset: str | None
    run_id: str | None
    parent: str | None
    hardware: str | None
    duration_s: float | None
    code_commit: str | None  # the code that trained it, when not this repository's HEAD
    origin: Mapping[str, Any] | None  # where bytes and metadata came from (`{"from": "MLflow", ...}`)
    imported: Mapping[str, Any] | None  # set by `modelreg import`: kept in the version tag's payload


class RegisterArgs(Metadata, total=False):
    """`Registry.register`'s keywords: the metadata, and where the blobs and the commit go."""

    store: str | None  # a store URL other than the config's
    progress: Progress | None
    push: bool | None
    remote: str | None
    branch: str | None  # commit to this branch, which need not be checked out


def register(
    reader: Reader,
    publisher: Publisher,
    name: str,
    path: str | os.PathLike[str],
    meta: RegisterArgs,
) -> ModelVersion:
    """Hash and store an artifact, commit its manifest and tag it `NAME@v<N>`.

    Through a remote, the commit and tag go out in one atomic push, redone on top of other
    writers' work until the remote takes them; `branch` commits to a branch that need not be
    checked out (CI runs on a detached HEAD).
    """
    check_name(name)
    _refuse_retired(reader, name)
    checked = {
        what: check_model_tags(dict(values or {})) if what == "tags" else check_scalars(dict(values or {}), what)
        for what, values in (
            ("params", meta.get("params")),
            ("metrics", meta.get("metrics")),
            ("tags", meta.get("tags")),
        )
    }
    check_metrics(checked["metrics"])
    store, progress = meta.get("store"), meta.get("progress")
    store_url = check_store_url(store) if store else reader.config.store
    files = scan(Path(path))
    unsafe = next((rel for _, rel in files if not manifestmod.is_safe_relative_path(rel)), None)
    if unsafe is not None:
        raise InvalidInputError(
            f"{path}: cannot register a file named {unsafe!r}: rename it (no control characters or backslashes)"
        )
    target = publisher.target(WriteOptions(meta.get("push"), meta.get("remote")), meta.get("branch"), commits=True)
    who, epoch, offset = reader.git.identity()
    millis = stamp_millis(epoch)  # MLflow's creation time in milliseconds, as the tag's payload records it
    if (meta.get("duration_s") or 0) < 0:
        raise InvalidInputError("--duration-s must not be negative")
    parent = meta.get("parent")
    parent_ref = _parent_ref(reader, parent) if parent else None
    blob_store = reader.store(store_url)

    code_commit, dirty = meta.get("code_commit"), list[bool]()
    # The work tree's dirty flag (`git diff`) is asked while the bytes are hashed and stored: a process that runs
    # beside this one's work, not after it. Its answer is taken only where it is needed; a failure is asked again.
    early: list[bool | Exception] = []
    asking = threading.Thread(target=_ask_dirty, args=(reader.git, early)) if not code_commit else None
    if asking is not None:
        asking.start()

    if progress is not None:
        progress.start(f"hashing {name}", sum(src.stat().st_size for src, _ in files))
    try:
        hashed, uploaded = ingest(blob_store, files, progress.advance if progress else None)
    finally:
        if asking is not None:
            asking.join()
    digest = hashed[0].digest if Path(path).is_file() else tree_digest(hashed)
    if early and isinstance(early[0], bool):
        dirty.append(early[0])

    def lineage_at(base: str | None) -> Lineage:
        """The code that trained it: the commit given, else HEAD's (the tip just read, when HEAD is on it)."""
        if code_commit or target.remote is not None or base is None or reader.git.branch() != target.branch:
            head = code_commit or reader.git.resolve_commit("HEAD")
        else:
            head = base
        if head and not code_commit and not dirty:
            dirty.append(reader.git.is_dirty(".modelreg/"))
        return Lineage(
            code_commit=head,
            code_dirty=dirty[0] if head and not code_commit else False,
            dataset=meta.get("dataset"),
            run_id=meta.get("run_id"),
            parent=parent_ref,
        )

    artifact = Artifact(store_url, digest, sum(f.size for f in hashed), tuple(hashed))
    imported, origin, duration_s = meta.get("imported"), meta.get("origin"), meta.get("duration_s")

    def attempt() -> ModelVersion:
        base, move_from = publisher.commit_base(target)
        lineage = lineage_at(base)
        # Bytes the store had already: an earlier version may have them (same_bytes), so the model's refs are
        # read, and they number the version too. New bytes: numbers from a few lookups, however many refs it has.
        snap = None if uploaded else reader.snapshot(name)
        highest, after = taken_in(snap, name) if snap is not None else (highest_version(reader.git, name), None)
        trees = reader.git.trees_along(base, manifestmod.model_dir(name)) if base else {}
        committed = names_in(trees.get(manifestmod.model_dir(name), b""), len(base or "") // 2)
        version = _next_version(reader, name, committed, highest)
        manifest = Manifest(
            name=name,
            version=version,
            created_at=datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            created_by=who,
            description=meta.get("description", ""),
            artifact=artifact,
            params=checked["params"],
            metrics=checked["metrics"],
            lineage=lineage,
            training=Training(duration_s=duration_s, hardware=meta.get("hardware")),
            tags=checked["tags"],
            extra={"origin": dict(origin)} if origin else {},
        )
        rel = manifestmod.manifest_path(name, version)
        text = manifestmod.to_yaml(manifest)
        commit, blobs = reader.git.commit_files(base, {rel: text}, f"modelreg: register {name} v{version}", trees)
        tag = version_tag(name, version)
        if after is None:  # so history places the registration among the events it followed
            after = last_seq(reader.git, name)
        payload: dict[str, Any] = {"action": "register", "version": version, "digest": digest, "after": after}
        payload["millis"] = millis
        if imported:
            payload["imported"] = dict(imported)
        suffix = f" (imported from {imported['from']})" if imported and "from" in imported else ""
        message = event_message(f"{name} v{version}: registered{suffix}", payload)
        tag_object = publisher.tag_object(target, tag, commit, message, "", ident=f"{who} {epoch} {offset}")
        warnings = publisher.publish_commit(
            target,
            move_from,
            commit,
            {rel: (text, blobs[rel])},
            [
                (f"refs/tags/{tag}", tag_object),
                (version_claim_ref(name, version), tag_object),
                *push_refs(blob_store, hashed),  # a git store's blob refs go in the same atomic push
            ],
            f"modelreg: register {name} v{version}",
        )
        publisher.registered[tag] = millis
        publisher.seed(name, [(f"refs/tags/{tag}", tag_object), (version_claim_ref(name, version), tag_object)])
        keep_built(base, commit, {rel: text}, [CONFIG_PATH])  # what the next reads of it ask first
        if not uploaded:  # new bytes in the store: no earlier version that stored its blobs there has them
            warnings += same_bytes(reader, name, digest, version, snap)
        if artifact.store != reader.config.store:
            warnings += (
                f"{tag}: its blobs went to {artifact.store!r}, not the store of record {reader.config.store!r}: "
                f"pull it with --store {artifact.store}",
            )
        return ModelVersion(manifest, None, (), commit, warnings, reader.config.store)

    return publisher.retry(target, name, attempt)


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
        git.write_worktree_file(rel, text, blobs[rel])
    return InitResult(git.root, config_file, config.store, commit)


def _refuse_retired(reader: Reader, name: str) -> None:
    """A retired model takes no new version until `unretire`: nothing of it would resolve but `NAME@N`.

    Only a model with a retire tag can be retired: the model's state is replayed only then. When the model's refs
    were listed with the branches (read.opening), its snapshot says whether it has one, with no listing of its own.
    """
    prefix = event_tag(name, "_retire", 1)[:-1]
    if tuple(patterns_for(name)) in reader.git.listed_ids:
        if not any(e.tag.startswith(prefix) for e in reader.snapshot(name).events.get(name, ())):
            return
    elif not reader.git.ref_ids([TAGS_PREFIX + prefix + "*"]):
        return
    try:
        retired = reader.state(name).retired
    except NotFoundError:
        return
    if retired is not None:
        raise InvalidInputError(
            f"{name} is retired ({retired}): bring it back with `modelreg unretire {name}` before registering"
        )


def _ask_dirty(git: GitRepo, into: list[bool | Exception]) -> None:
    try:
        into.append(git.is_dirty(".modelreg/"))
    except Exception as exc:  # the registration asks again where it needs the answer
        into.append(exc)


def _parent_ref(reader: Reader, parent: str) -> str:
    resolved = reader.resolve(parent)
    return version_tag(resolved.name, resolved.version)


def _next_version(reader: Reader, name: str, committed: set[str], highest: int) -> int:
    """One past `highest`, every version taken (version tag names, even malformed tags', and claim refs:
    publish.numbering), and past any manifest already at that number at the base commit (`committed`: the
    names in the model's directory there, read with the trees the commit is built from) or in the work tree.
    """
    version = highest + 1
    while True:
        window = [version + step for step in range(8)]
        paths = [manifestmod.manifest_path(name, number) for number in window]
        taken = [
            n
            for n, path in zip(window, paths, strict=True)
            if path.rsplit("/", 1)[1] in committed or (reader.root / path).exists()
        ]
        if not taken:
            return version
        version = max(taken) + 1
