"""Reading a GTO repository: its tags, `artifacts.yaml` at each registered commit, the bytes it points at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple, TypedDict, Unpack

from modelreg.core.progress import Progress
from modelreg.errors import ConfigError, GitError, InvalidInputError, NotFoundError
from modelreg.formats import yamlio
from modelreg.git import GitRepo
from modelreg.importers import apply, gto_dvcyaml
from modelreg.importers.gto_plan import GtoTag, parse, plan
from modelreg.importers.plan import VersionStep
from modelreg.publish.publisher import Publisher
from modelreg.read.reader import Reader
from modelreg.results import ImportReport

INDEX = "artifacts.yaml"
_MD5 = re.compile(r"[0-9a-fA-F]{32}")


def read_tags(repo: GitRepo) -> list[GtoTag]:
    records, _ = repo.read_refs(["refs/tags/"])
    found = []
    for record in records:
        if not record.annotated or parse(record.tag) is None:
            continue
        body = f"{record.subject}\n\n{record.body}".strip() if record.body.strip() else record.subject
        found.append(GtoTag(record.tag, record.commit, record.tagger, record.date, body))
    return found


def read_index(repo: GitRepo, commits: list[str]) -> dict[str, Mapping[str, Any]]:
    """commit → artifacts.yaml's entries there (an empty mapping where it has none or it does not parse)."""
    texts = repo.read_files([(commit, INDEX) for commit in commits])
    index: dict[str, Mapping[str, Any]] = {}
    for commit, text in zip(commits, texts, strict=True):
        data: Any = None
        if text:
            try:
                data = yamlio.load(text, f"{INDEX} at {commit[:12]}")
            except ConfigError:
                data = None
        index[commit] = {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}
    return index


def fetch_from(repo: GitRepo, step: VersionStep, scratch: Path) -> Path:
    """The artifact's bytes at the registered commit: committed to git, or a DVC output in the local DVC cache."""
    commit, _, path = (step.location or "").partition(":")
    if repo.export(commit, path, scratch):
        return scratch / path
    (pointer,) = repo.read_files([(commit, f"{path}.dvc")])
    if pointer is not None:
        cached, why = dvc_cached(repo.root, pointer)
        if cached is not None:
            target = scratch / Path(path).name
            shutil.copyfile(cached, target)
            return target
        raise NotFoundError(f"{step.label}: {path} {why or 'is a DVC output not in the local DVC cache'}")
    raise NotFoundError(f"{step.label}: {path} is not committed at {commit[:12]}")


class Pointer(NamedTuple):
    """What a `.dvc` file says of a single-file output."""

    md5: str | None  # 32 lowercase hex digits, when it gives them
    problem: str | None  # why it gives none
    refused: bool = False  # it names something other than a digest: the version is not imported at all


def dvc_pointer(text: str) -> Pointer:
    """The md5 a `.dvc` file gives its (first) output; anything but 32 hex digits is not used as a path."""
    try:
        data = yamlio.load(text, "dvc file")
    except ConfigError:
        return Pointer(None, "has a .dvc file that does not parse")
    outs = data.get("outs") if isinstance(data, dict) else None
    md5 = outs[0].get("md5") if isinstance(outs, list) and outs and isinstance(outs[0], dict) else None
    if isinstance(md5, str) and md5.endswith(".dir"):
        return Pointer(None, "is a DVC directory output, which this importer does not read (register it by hand)")
    if not isinstance(md5, str) or not _MD5.fullmatch(md5):
        shown = str(md5)[:40]
        return Pointer(None, f"has a .dvc file whose md5 is not 32 hex digits ({shown!r}): refused", refused=True)
    return Pointer(md5.lower(), None)


def dvc_cached(root: Path, pointer: str) -> tuple[Path | None, str | None]:
    """A single-file DVC output's cache file (DVC 3 `files/md5/` layout, or DVC 2's), or why there is none.

    The cache path is built only from a checked md5 and must lie inside the cache directory: a
    pointer is text anyone with push rights wrote.
    """
    md5, problem, _ = dvc_pointer(pointer)
    if md5 is None:
        return None, problem
    for cache in (root / ".dvc/cache/files/md5", root / ".dvc/cache"):
        candidate = cache / md5[:2] / md5[2:]
        if candidate.is_file() and candidate.resolve().is_relative_to(cache.resolve()):
            return candidate, None
    return None, None


def safe_path(path: str) -> str | None:
    """Why an artifacts.yaml path may not be read (None: a plain path inside the repository)."""
    parts = PurePosixPath(path).parts
    if path.startswith(("/", ":")) or "\\" in path or any(c in path for c in "\0\n") or ".." in parts:
        return f"its path {path[:80]!r} in {INDEX} is outside the repository (or not a plain path)"
    return None


class ImportArgs(TypedDict, total=False):
    """`Registry.import_gto`'s keywords."""

    stage_map: Mapping[str, str] | None  # GTO stage → this registry's
    dry_run: bool
    progress: Progress | None


def import_repo(reader: Reader, publisher: Publisher, path: str, **args: Unpack[ImportArgs]) -> ImportReport:
    """Bring a GTO repository's artifacts over; again later, only the tags that are new."""
    stage_map, dry_run, progress = args.get("stage_map") or {}, args.get("dry_run", False), args.get("progress")
    for gto_stage, ours in stage_map.items():
        if ours not in reader.config.stages:
            raise InvalidInputError(f"--stage {gto_stage}={ours}: {ours!r} is not a configured stage")
    repo = GitRepo.discover(path)
    tags = read_tags(repo)
    if not tags:
        raise NotFoundError(f"{repo.root} has no GTO tags (NAME@vX.Y.Z, NAME#STAGE#N)")
    registered = sorted({t.commit for t in tags if (p := parse(t.tag)) is not None and p.action == "register"})
    index = gto_dvcyaml.read_index(repo, registered)  # dvc.yaml's artifacts (GTO >= 1.0), then artifacts.yaml
    the_plan = plan(tags, index, stage_map, reader.config.stages)
    kept, skipped = [], list(the_plan.skipped)
    for version in the_plan.versions:  # a bad artifact is reported alone; the others import
        refused = _refused(repo, version)
        if refused is not None:
            skipped.append(f"{version.label}: not imported: {refused}")
        else:
            kept.append(version._replace(missing=version.missing or _missing(repo, version)))
    the_plan = the_plan._replace(versions=kept, skipped=skipped)
    return apply.run(
        reader,
        publisher,
        the_plan,
        "GTO",
        lambda step, scratch: fetch_from(repo, step, scratch),
        dry_run=dry_run,
        progress=progress,
    )


def _refused(repo: GitRepo, step: VersionStep) -> str | None:
    """Why a version may not be imported at all: a path outside the repository, a pointer naming a file."""
    commit, _, path = (step.location or "").partition(":")
    if not path:
        return None
    unsafe = safe_path(path)
    if unsafe is not None:
        return unsafe
    try:
        (pointer,) = repo.read_files([(commit, f"{path}.dvc")])
    except GitError:
        return None  # _missing says why the bytes cannot be had
    found = dvc_pointer(pointer) if pointer is not None else None
    return f"{path} {found.problem}" if found is not None and found.refused else None


def _missing(repo: GitRepo, step: VersionStep) -> str | None:
    """Why the bytes of a version cannot be had, or None when they can."""
    commit, _, path = (step.location or "").partition(":")
    if repo.resolve_commit(commit) is None:
        return f"git cannot read {path} at {commit[:12]} in the GTO repository (is that commit there?)"
    listed = repo.list_paths(commit, path)
    (pointer,) = repo.read_files([(commit, f"{path}.dvc")]) if not listed else (None,)
    if listed:
        return None
    if pointer is not None:
        cached, why = dvc_cached(repo.root, pointer)
        if cached is not None:
            return None
        if why is not None:
            return f"{path} {why}"
        return f"{path} is a DVC output not in the local DVC cache (run `dvc pull {path}` in the GTO repository first)"
    return f"{path} was not committed at {commit[:12]} (GTO records the path, not the bytes)"
