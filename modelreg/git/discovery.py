"""Finding the work tree that holds a directory, and the branch it has checked out, as git does, without a git
process in the common case."""

from __future__ import annotations

import os

from modelreg.git.reffiles import git_dirs


def work_tree_of(start: str) -> str | None:
    """The work tree holding `start`, found as git finds it, in the common case only (else None).

    Saves a `git rev-parse` process per command. Anything unusual (a `.git` that is neither a
    repository directory nor a `gitdir:` file, or discovery limits in the environment) is left
    to git itself.
    """
    if any(var in os.environ for var in ("GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM")):
        return None
    current = start
    while True:
        dot_git = os.path.join(current, ".git")
        if os.path.isdir(dot_git):
            return current if os.path.isfile(os.path.join(dot_git, "HEAD")) else None
        if os.path.isfile(dot_git):
            try:
                with open(dot_git, "rb") as file:
                    return current if file.read(8) == b"gitdir: " else None
            except OSError:
                return None
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


_UNKNOWN = "?"


def checked_out_branch(work_tree: str) -> str | None:
    """The branch (`refs/heads/...`) the HEAD of `work_tree` names, None when HEAD is detached, or "?" when
    only git can say.

    Read from the HEAD file, as git reads it with the files ref backend: `ref: refs/heads/<branch>` or a
    commit id. A `.git` that is neither a directory nor a `gitdir:` file, a HEAD that is a link or
    names anything else, and the reftable backend's placeholder HEAD are left to git.
    """
    dirs = git_dirs(work_tree)
    if dirs is None:
        return _UNKNOWN
    try:
        head = os.path.join(dirs[0], "HEAD")
        if os.path.islink(head):
            return _UNKNOWN
        with open(head, "rb") as file:
            text = file.read(4096).decode("utf-8", "surrogateescape")
    except (OSError, ValueError):
        return _UNKNOWN
    if text.startswith("ref: refs/heads/") and text.endswith("\n") and text.count("\n") == 1:
        ref = text[5:-1].strip()
        return _UNKNOWN if ref == "refs/heads/.invalid" or not ref[len("refs/heads/") :] else ref
    if len(text.strip()) in (40, 64) and all(c in "0123456789abcdef" for c in text.strip()):
        return None
    return _UNKNOWN
