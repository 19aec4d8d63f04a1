"""Reading a GTO repository: its tags, `artifacts.yaml` at each registered commit, the bytes it points at."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg.errors import ConfigError, InvalidInputError, NotFoundError
from modelreg.formats import yamlio
from modelreg.git import GitRepo
from modelreg.importers import gto_dvcyaml
from modelreg.importers.gto_plan import GtoTag, parse, plan

if TYPE_CHECKING:
    from modelreg.importers.apply import ImportReport
    from modelreg.importers.plan import VersionStep
    from modelreg.store.hashing import Progress
    from modelreg.writer import Writer

INDEX = "artifacts.yaml"


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
        cached = _dvc_cached(repo.root, pointer)
        if cached is not None:
            target = scratch / Path(path).name
            shutil.copyfile(cached, target)
            return target
        raise NotFoundError(f"{step.label}: {path} is a DVC output whose file is not in the local DVC cache")
    raise NotFoundError(f"{step.label}: {path} is not committed at {commit[:12]}")


def _dvc_cached(root: Path, pointer: str) -> Path | None:
    """A single-file DVC output's cache file (DVC 3 `files/md5/` layout, or DVC 2's)."""
    try:
        data = yamlio.load(pointer, "dvc file")
    except ConfigError:
        return None
    outs = data.get("outs") if isinstance(data, dict) else None
    md5 = outs[0].get("md5") if isinstance(outs, list) and outs and isinstance(outs[0], dict) else None
    if not isinstance(md5, str) or len(md5) != 32 or md5.endswith(".dir"):
        return None
    for cache in (root / ".dvc/cache/files/md5", root / ".dvc/cache"):
        candidate = cache / md5[:2] / md5[2:]
        if candidate.is_file():
            return candidate
    return None


def import_repo(
    reg: Writer,
    path: str,
    stage_map: Mapping[str, str],
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Bring a GTO repository's artifacts over into `reg`; again later, only the tags that are new."""
    from modelreg.importers import apply

    for gto_stage, ours in stage_map.items():
        if ours not in reg.config.stages:
            raise InvalidInputError(f"--stage {gto_stage}={ours}: {ours!r} is not a configured stage")
    repo = GitRepo.discover(path)
    tags = read_tags(repo)
    if not tags:
        raise NotFoundError(f"{repo.root} has no GTO tags (NAME@vX.Y.Z, NAME#STAGE#N)")
    registered = sorted({t.commit for t in tags if (p := parse(t.tag)) is not None and p.action == "register"})
    index = gto_dvcyaml.read_index(repo, registered)  # dvc.yaml's artifacts (GTO >= 1.0), then artifacts.yaml
    the_plan = plan(tags, index, stage_map, reg.config.stages)
    the_plan = the_plan._replace(
        versions=[v._replace(missing=v.missing or _missing(repo, v), imported=v.imported) for v in the_plan.versions]
    )
    return apply.run(
        reg, the_plan, "GTO", lambda step, scratch: fetch_from(repo, step, scratch), dry_run=dry_run, progress=progress
    )


def _missing(repo: GitRepo, step: VersionStep) -> str | None:
    """Why the bytes of a version cannot be had, or None when they can."""
    commit, _, path = (step.location or "").partition(":")
    listed = repo.git("ls-tree", "-r", "--name-only", commit, "--", path).strip()
    if listed:
        return None
    (pointer,) = repo.read_files([(commit, f"{path}.dvc")])
    if pointer is not None:
        if _dvc_cached(repo.root, pointer) is not None:
            return None
        if ".dir" in pointer:
            return f"{path} is a DVC directory output, which this importer does not read (register it by hand)"
        return f"{path} is a DVC output not in the local DVC cache (run `dvc pull {path}` in the GTO repository first)"
    return f"{path} was not committed at {commit[:12]} (GTO records the path, not the bytes)"
