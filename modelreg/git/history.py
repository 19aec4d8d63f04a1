"""History facts: the main line's additions (review evidence), the branches and a remote's HEAD, where a file
first appeared.

None of them is chosen by the checkout."""

from __future__ import annotations

from collections.abc import Sequence
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


_ADDITIONS_FORMAT = "--format=%x1e%H%x00%P%x00%an <%ae>%x00%aI"


def first_parent_additions(repo: GitRepo, rev: str, directory: str) -> list[Addition]:
    """Commits on `rev`'s first-parent line (the main line) that added files under `directory`.

    Newest first. A merge commit is listed with the files it brought in from the merged
    branch; a commit made on the main line itself with the files it added.
    """
    out = repo.git(
        "log", "--first-parent", "--diff-filter=A", "--name-only", "-z", _ADDITIONS_FORMAT, rev, "--", f"{directory}/"
    )
    return _additions(out)


def additions_at(repo: GitRepo, commits: Sequence[str], directory: str) -> list[Addition]:
    """What each of `commits` added under `directory`, as `first_parent_additions` sees a commit of the main line
    (against its first parent); a commit that added nothing there is left out. One `git log --no-walk`."""
    out = repo.git(
        "log",
        "--no-walk=unsorted",
        "--first-parent",
        "--diff-filter=A",
        "--name-only",
        "-z",
        _ADDITIONS_FORMAT,
        *commits,
        "--",
        f"{directory}/",
    )
    return [a for a in _additions(out) if a.paths]


def on_first_parent_line(repo: GitRepo, tip: str, commits: Sequence[str]) -> bool:
    """Whether every one of `commits` is `tip` or on its first-parent line. One `rev-list`: for one commit, the
    walk from `tip` down to it, no further; for more, the whole line."""
    wanted = set(commits) - {tip}
    if len(wanted) > 1:
        return wanted <= set(repo.git("rev-list", "--first-parent", tip).split())
    for commit in wanted:
        out = repo.git("rev-list", "--first-parent", "--parents", tip, "--not", commit).splitlines()
        return bool(out) and out[-1].split()[1:2] == [commit]
    return True


def index_commits(repo: GitRepo, tip: str) -> bool:
    """Add the history of `tip` to the repository's commit-graph (git's index of commits and their parents), as a
    layer over what it already held (`--split`: the commits it holds already are not written again, and with
    nothing new nothing is written): a walk of the main line then reads no commit object (0.2 s -> 25 ms at
    50,000 commits). An accelerator only: False, and nothing changed, when git cannot write it."""
    try:
        repo.git("commit-graph", "write", "--split", "--stdin-commits", "--no-progress", stdin=f"{tip}\n")
    except GitError:
        return False
    return True


def _additions(out: str) -> list[Addition]:
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


class Branches(NamedTuple):
    """Every local and remote-tracking branch with its tip, from one `for-each-ref`."""

    tips: dict[str, str]  # `refs/heads/…` and `refs/remotes/…` → commit
    checked_out: str | None  # the branch HEAD names, when HEAD is one of them (None: detached or unborn)
    symrefs: dict[str, str]  # a symbolic ref among them (`refs/remotes/origin/HEAD`) → the ref it names

    def remote_head(self, remote: str) -> str | None:
        """The branch `refs/remotes/<remote>/HEAD` names: the remote's default branch as of clone or `set-head`."""
        target = self.symrefs.get(f"refs/remotes/{remote}/HEAD", "")
        prefix = f"refs/remotes/{remote}/"
        return target.removeprefix(prefix) or None if target.startswith(prefix) else None

    def key(self) -> list[str]:
        """The tips as sorted `ref id` lines: what a cached answer about their histories is keyed by."""
        return sorted(f"{ref} {commit}" for ref, commit in self.tips.items())


def branches(repo: GitRepo, also: Sequence[str] = ()) -> Branches:
    """The branches and remote-tracking branches. The refs matching `also` are listed in the same call, their
    `refname objectname` lines left in `repo.listed_ids` for the read that asks for them next: one git process
    where a warm read took two."""
    out = repo.git(
        "for-each-ref",
        "--format=%(HEAD)%00%(refname)%00%(objectname)%00%(symref)",
        "refs/heads",
        "refs/remotes",
        *also,
    )
    tips: dict[str, str] = {}
    symrefs: dict[str, str] = {}
    checked_out = None
    ids: list[str] = []
    for line in out.splitlines():
        head, ref, commit, symref = line.split("\x00")
        if not ref.startswith(("refs/heads/", "refs/remotes/")):
            ids.append(f"{ref} {commit}\n")
            continue
        tips[ref] = commit
        if symref:
            symrefs[ref] = symref
        if head == "*":
            checked_out = ref
    if also:
        repo.listed_ids[tuple(also)] = "".join(ids)
    return Branches(tips, checked_out, symrefs)


def tip_of(repo: GitRepo, listed: Branches, branch: str, remote: str) -> str | None:
    """The newer of `branch` and its remote-tracking branch: the local one unless it is missing or behind."""
    local, tracking = listed.tips.get(f"refs/heads/{branch}"), listed.tips.get(f"refs/remotes/{remote}/{branch}")
    if local is not None and tracking is not None and local != tracking and repo.is_ancestor(local, tracking):
        return tracking
    return local or tracking


def additions(repo: GitRepo, path: str, detached_head: str | None) -> list[str]:
    """The commits that added `path`, on the history of any branch, remote-tracking branch or HEAD (newest first).

    `detached_head`: HEAD's commit when it is on no branch (a branch's HEAD is among the branches).
    A history where `path` was never committed gives none; a shallow clone's oldest commit holding
    it counts as adding it.
    """
    heads = ["--branches", "--remotes", *([detached_head] if detached_head else [])]
    out = repo.git("log", *heads, "--diff-filter=A", "--format=%H", "--", path)
    return out.split()
