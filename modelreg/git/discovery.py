"""Finding the work tree that holds a directory, as git does, without a git process in the common case."""

from __future__ import annotations

import os


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
