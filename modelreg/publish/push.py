"""Making writes visible: in the local repository, or through a shared remote (DESIGN §7).

Objects (commits, tag objects) are built first and reference nothing. Then either one local
`update-ref` transaction creates the refs, or one `git push --atomic` offers them to the remote,
which is the arbiter: it takes all of them or none. Only after the remote accepted are the same
refs created locally, so a writer that loses a race, or is killed, leaves nothing to undo here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from modelreg.errors import ConflictError, LostRace
from modelreg.git import GitRepo, RefUpdate
from modelreg.git.blobrefs import is_blob_ref
from modelreg.git.remote import push_atomic

T = TypeVar("T")
MAX_ATTEMPTS = 12


class Target(NamedTuple):
    """Where a write lands: `remote` None means this repository only."""

    remote: str | None
    branch: str | None = None  # full ref, e.g. refs/heads/main, for writes that commit
    sign: bool = False  # the write's tags are signed with the user's git signing key

    @property
    def tracking(self) -> str | None:
        """The remote-tracking ref of the branch, e.g. refs/remotes/origin/main."""
        if self.remote is None or self.branch is None:
            return None
        return f"refs/remotes/{self.remote}/{self.branch.removeprefix('refs/heads/')}"


class BranchMove(NamedTuple):
    ref: str
    new: str
    old: str | None  # None: the branch does not exist yet (locally, or on the remote)


def publish(
    git: GitRepo,
    target: Target,
    refs: list[tuple[str, str]],
    reason: str,
    branch: BranchMove | None = None,
    checked_out: bool = False,
) -> bool:
    """Create `refs` (ref → object) and move `branch`, all or nothing.

    Returns False when the local branch could not follow a pushed commit (the user has work in
    the way); the remote has it all the same.
    """
    new_refs = [RefUpdate(ref, obj) for ref, obj in refs if not is_blob_ref(ref)]  # the store made those
    if target.remote is None:
        moves = [RefUpdate(branch.ref, branch.new, branch.old)] if branch else []
        stored = [(ref, obj) for ref, obj in refs if is_blob_ref(ref)]  # still there, or nothing is published
        git.update_refs(moves + new_refs, reason, verify=stored)
        return True
    specs = ([f"{branch.new}:{branch.ref}"] if branch else []) + [f"{obj}:{ref}" for ref, obj in refs]
    try:
        push_atomic(git, target.remote, specs)
    except ConflictError as exc:
        raise LostRace(str(exc)) from None
    git.update_refs(new_refs, reason)
    if branch is None:
        return True
    if target.tracking:
        git.update_refs([RefUpdate(target.tracking, branch.new, git.resolve_commit(target.tracking))], reason)
    if checked_out:
        return git.fast_forward_checkout(branch.new)
    local = git.resolve_commit(branch.ref)
    if local is not None and git.is_ancestor(local, branch.new):
        git.update_refs([RefUpdate(branch.ref, branch.new, local)], reason)
    return True


def with_retries(target: Target, fetch: Callable[[], None], attempt: Callable[[], T]) -> T:
    """Run `attempt` once locally, or fetch-then-attempt until the remote takes it (bounded, with jitter)."""
    if target.remote is None:
        return attempt()
    for number in range(MAX_ATTEMPTS):
        fetch()
        try:
            return attempt()
        except LostRace:
            time.sleep(random.uniform(0, min(1.0, 0.02 * 2**number)))  # noqa: S311 - jitter, not crypto
    raise ConflictError(
        f"other writers kept changing {target.remote} first: gave up after {MAX_ATTEMPTS} attempts; run it again"
    )
