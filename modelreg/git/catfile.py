"""Reading many files at once: one `git cat-file --batch` for every (revision, path) asked."""

from __future__ import annotations

import os
import re
from pathlib import Path

from modelreg import cachefile
from modelreg.errors import GitError
from modelreg.git.process import run_git_raw
from modelreg.paths import cache_dir

_FULL_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def read_files(
    root: Path, files: list[tuple[str | None, str]], keep: bool, timeout: float | None = None
) -> list[str | None]:
    """See `GitRepo.read_files`."""
    known: dict[tuple[str, str], str | None] = {}
    for rev, path in files:
        if keep and rev is not None and _FULL_ID.fullmatch(rev):
            cached = cachefile.load(_object_file(rev, path))
            if isinstance(cached, tuple) and cached[:2] == (rev, path):
                known[rev, path] = cached[2]
    asked = [(rev, path) for rev, path in files if rev is not None and (rev, path) not in known]
    texts = cat_blobs(root, [f"{r}:{p}" for r, p in asked], timeout) if asked else []
    for (rev, path), text in zip(asked, texts, strict=True):
        known[rev, path] = text
        if keep and _FULL_ID.fullmatch(rev):
            cachefile.dump(_object_file(rev, path), (rev, path, text))
    return [known[rev, path] if rev is not None else _worktree_text(root, path) for rev, path in files]


def keep_built(parent: str | None, commit: str, files: dict[str, str], unchanged: list[str]) -> None:
    """After `GitRepo.commit_files(parent, files)` built `commit`: what `read_files(keep=True)` would keep of it
    (a commit's files never change), so reading them back costs no git process: those files' text as
    written, and each `unchanged` path (one the commit did not touch) as kept for `parent`, if it is.
    The commit is recorded as built from `parent` (`built_from`)."""
    if not _FULL_ID.fullmatch(commit):
        return
    if parent is not None and _FULL_ID.fullmatch(parent):
        cachefile.dump(_built_file(commit), ("built", commit, parent, sorted(files)))
    for path, text in files.items():
        cachefile.dump(_object_file(commit, path), (commit, path, text))
    for path in unchanged:
        touched = any(f == path or f.startswith(f"{path}/") or path.startswith(f"{f}/") for f in files)
        if parent is None or touched or not _FULL_ID.fullmatch(parent):
            continue
        cached = cachefile.load(_object_file(parent, path))
        if isinstance(cached, tuple) and cached[:2] == (parent, path):
            cachefile.dump(_object_file(commit, path), (commit, path, cached[2]))


def built_from(commit: str) -> tuple[str, list[str]] | None:
    """(parent, the paths it changed) of a commit `keep_built` recorded as built here; None for any other."""
    cached = cachefile.load(_built_file(commit)) if _FULL_ID.fullmatch(commit) else None
    if isinstance(cached, tuple) and len(cached) == 4 and cached[:2] == ("built", commit):
        parent, paths = cached[2], cached[3]
        if isinstance(parent, str) and isinstance(paths, list) and all(isinstance(p, str) for p in paths):
            return parent, paths
    return None


def _built_file(commit: str) -> str:
    return os.path.join(cache_dir(), "files", cachefile.file_name("built", commit))


def _object_file(rev: str, path: str) -> str:
    return os.path.join(cache_dir(), "files", cachefile.file_name(rev, path))


def _worktree_text(root: Path, path: str) -> str | None:
    try:
        return (root / path).read_bytes().decode("utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def cat_blobs(root: Path, specs: list[str], timeout: float | None = None) -> list[str | None]:
    """The text of each blob `specs` names (`rev:path` or an id), None where none; `timeout` bounds the call."""
    raw = run_git_raw(["cat-file", "--batch"], root, "".join(f"{spec}\n" for spec in specs).encode(), timeout=timeout)
    if raw.returncode != 0:
        raise GitError(f"git cat-file failed: {raw.stderr.decode(errors='replace').strip()}")
    data, pos = raw.stdout, 0
    result: list[str | None] = []
    for _ in specs:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode().split(" ")
        pos = end + 1
        if len(header) == 3 and header[1] == "blob":
            size = int(header[2])
            result.append(data[pos : pos + size].decode("utf-8", errors="replace"))
            pos += size + 1
        elif len(header) == 3:  # a tree or commit: skip its content
            pos += int(header[2]) + 1
            result.append(None)
        else:
            result.append(None)
    return result
