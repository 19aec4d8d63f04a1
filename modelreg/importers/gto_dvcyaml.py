"""What a GTO repository declares about its artifacts at a commit, as GTO >= 1.0 reads it.

GTO 1.x reads the `artifacts:` section of `dvc.yaml` (DVC's own format: `path`, `type`, `desc`,
`labels`); GTO before 1.0 read `artifacts.yaml` (`path`, `type`, `description`, `labels`). Both are
read here, `dvc.yaml` winning for an artifact both declare. Paths are kept only when they stay
inside the repository: a URL (`s3://…`), an absolute path or one that climbs out (`../`) is kept as
`outside`, so the import explains that modelreg takes bytes only from git or the DVC cache.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from modelreg.errors import ConfigError
from modelreg.formats import yamlio
from modelreg.git import GitRepo

LEGACY = "artifacts.yaml"
DVC_YAML = "dvc.yaml"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def inside(path: str) -> str | None:
    """`path` normalised as a path inside the repository, or None when it points outside it."""
    if not path or _URL.match(path) or path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return None
    normal = posixpath.normpath(path.replace("\\", "/"))
    if normal in (".", "") or normal == ".." or normal.startswith("../"):
        return None
    return normal


def entries(text: str | None, source: str, section: str | None) -> dict[str, dict[str, Any]]:
    """name → entry of one file (`section`: the mapping under that key, as `artifacts:` in dvc.yaml)."""
    if not text:
        return {}
    try:
        data: Any = yamlio.load(text, source)
    except ConfigError:
        return {}
    if section is not None:
        data = data.get(section) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            continue
        entry = dict(entry)
        if "desc" in entry and "description" not in entry:
            entry["description"] = entry.pop("desc")
        path = entry.get("path")
        if isinstance(path, str) and inside(path) is None:
            entry["outside"] = entry.pop("path")
        elif isinstance(path, str):
            entry["path"] = inside(path)
        entry["declared_in"] = source.split(" at ", 1)[0]
        found[str(name)] = entry
    return found


def read_index(repo: GitRepo, commits: list[str]) -> dict[str, Mapping[str, Any]]:
    """commit → the artifacts declared there (dvc.yaml over artifacts.yaml); empty where none parse."""
    wanted: list[tuple[str | None, str]] = [(commit, name) for commit in commits for name in (DVC_YAML, LEGACY)]
    texts = iter(repo.read_files(wanted))
    index: dict[str, Mapping[str, Any]] = {}
    for commit in commits:
        dvc_text, legacy_text = next(texts), next(texts)
        legacy = entries(legacy_text, f"{LEGACY} at {commit[:12]}", None)
        index[commit] = legacy | entries(dvc_text, f"{DVC_YAML} at {commit[:12]}", "artifacts")
    return index
