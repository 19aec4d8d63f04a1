"""History facts: the main line's additions (review evidence), a remote's HEAD, where a file first appeared.

None of them is chosen by the checkout."""

from __future__ import annotations

from typing import NamedTuple

from modelreg.errors import GitError
from modelreg.git.repo import GitRepo


class Addition(NamedTuple):
    """A main-line commit and the files it added (see `first_parent_additions`)."""

    commit: str
    parents: tuple[str, ...]
    author: str  # "Name <email>"; for a merge commit, who merged
    date: str
    paths: tuple[str, ...]


def first_parent_additions(repo: GitRepo, rev: str, directory: str) -> list[Addition]:
    """Commits on `rev`'s first-parent line (the main line) that added files under `directory`.

    Newest first. A merge commit is listed with the files it brought in from the merged
    branch; a commit made on the main line itself with the files it added.
    """
    out = repo.git(
        "log",
        "--first-parent",
        "--diff-filter=A",
        "--name-only",
        "-z",
        "--format=%x1e%H%x00%P%x00%an <%ae>%x00%aI",
        rev,
        "--",
        f"{directory}/",
    )
    additions = []
    for record in out.split("\x1e"):
        if not record.strip("\x00\n"):
            continue
        commit, parents, author, date, *paths = (part.strip("\n") for part in record.split("\x00"))
        additions.append(Addition(commit, tuple(parents.split()), author, date, tuple(p for p in paths if p)))
    return additions


def parents_of(repo: GitRepo, commits: list[str]) -> list[str]:
    """The parents of every commit in `commits` (one `git show`)."""
    return repo.git("show", "--no-patch", "--format=%P", *commits).split() if commits else []


def remote_head_branch(repo: GitRepo, remote: str) -> str | None:
    """The branch `refs/remotes/<remote>/HEAD` names: the remote's default branch as of clone or `set-head`."""
    try:
        target = repo.git("symbolic-ref", "-q", f"refs/remotes/{remote}/HEAD").strip()
    except GitError:
        return None
    prefix = f"refs/remotes/{remote}/"
    return target.removeprefix(prefix) or None if target.startswith(prefix) else None


def additions(repo: GitRepo, path: str) -> list[str]:
    """The commits that added `path`, on the history of any branch, remote-tracking branch or HEAD (newest first).

    A history where `path` was never committed gives none; a shallow clone's oldest commit holding
    it counts as adding it.
    """
    heads = ["--branches", "--remotes"]
    if repo.resolve_commit("HEAD") is not None:
        heads.append("HEAD")
    out = repo.git("log", *heads, "--diff-filter=A", "--format=%H", "--", path)
    return out.split()
