"""Facts about branches the checkout does not choose: a remote's HEAD, where a file first appeared."""

from __future__ import annotations

from modelreg.errors import GitError
from modelreg.git.repo import GitRepo


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
