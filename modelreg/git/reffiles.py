"""A branch's tip read from git's ref files, as git reads them with the files ref backend, without a git process
in the common case; anything unusual is left to git (`GitRepo.resolve_commit`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

_UNKNOWN = "?"
_HEX = frozenset("0123456789abcdef")


def branch_tip(root: Path, ref: str, ask: Callable[[str], str | None]) -> str | None:
    """The commit `ref` (`refs/heads/...`) names now, None when there is no such branch; `ask`: git's answer
    (`GitRepo.resolve_commit`), for anything unusual."""
    found = read_tip(str(root), ref)
    return ask(ref) if found == _UNKNOWN else found


def read_tip(work_tree: str, ref: str) -> str | None:
    """The object id in the loose ref file `ref`, else in `packed-refs` (git's own order), None when neither has
    it, "?" when only git can say: a repository found through GIT_DIR, the reftable backend, a symbolic or
    unreadable ref, a `.git` file that is not a plain `gitdir:` line."""
    if not ref.startswith("refs/heads/") or ".." in ref or any(v in os.environ for v in ("GIT_DIR", "GIT_COMMON_DIR")):
        return _UNKNOWN
    dirs = git_dirs(work_tree)
    common = dirs[1] if dirs is not None else None
    if common is None or os.path.exists(os.path.join(common, "reftable")):
        return _UNKNOWN
    try:
        with open(os.path.join(common, ref), "rb") as file:
            return _object_id(file.read(200))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        pass  # not a loose ref: packed, or missing
    except OSError:
        return _UNKNOWN
    try:
        with open(os.path.join(common, "packed-refs"), "rb") as file:
            packed = file.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except OSError:
        return _UNKNOWN
    for line in packed.splitlines():
        if line.startswith(("#", "^")):
            continue
        oid, _, name = line.partition(" ")
        if name == ref:
            return _object_id(f"{oid}\n".encode())
    return None


def _object_id(content: bytes) -> str:
    text = content.decode("ascii", "replace")
    oid = text[:-1] if text.endswith("\n") else _UNKNOWN
    return oid if len(oid) in (40, 64) and _HEX.issuperset(oid) else _UNKNOWN


def git_dirs(work_tree: str) -> tuple[str, str] | None:
    """(the repository directory of `work_tree`, the one holding its refs and config: a linked worktree's common
    one), None when only git can say."""
    dot_git = os.path.join(work_tree, ".git")
    try:
        if os.path.isdir(dot_git):
            git_dir = dot_git
        else:
            with open(dot_git, "rb") as file:
                line = file.read(4096).decode("utf-8", "surrogateescape").rstrip("\n")
            if not line.startswith("gitdir: ") or "\n" in line:
                return None
            git_dir = os.path.join(work_tree, line.removeprefix("gitdir: "))
        try:
            with open(os.path.join(git_dir, "commondir"), "rb") as file:
                common = file.read(4096).decode("utf-8", "surrogateescape").rstrip("\n")
        except FileNotFoundError:
            return git_dir, git_dir
        return (git_dir, os.path.join(git_dir, common)) if common and "\n" not in common else None
    except (OSError, ValueError):
        return None
